"""kubectl's protobuf request bodies, built here with a small encoder."""
import pytest

from apiserver.http import protobuf
from apiserver.machinery.errors import StatusError


def varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld(num: int, payload: bytes) -> bytes:
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vi(num: int, n: int) -> bytes:
    return varint(num << 3) + varint(n)


def s(num: int, text: str) -> bytes:
    return ld(num, text.encode())


def entry(num: int, k: str, v: bytes) -> bytes:
    return ld(num, s(1, k) + ld(2, v))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return protobuf.MAGIC + ld(1, s(1, api_version) + s(2, kind)) + ld(2, raw)


def test_configmap_with_labels_and_data():
    meta = s(1, "c1") + s(2, "") + entry(11, "app", b"x")
    raw = ld(1, meta) + entry(2, "a", b"b") + entry(2, "c", b"d")
    obj = protobuf.decode(envelope("v1", "ConfigMap", raw))
    assert obj == {"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "c1", "labels": {"app": "x"}}, "data": {"a": "b", "c": "d"}}


def test_secret_bytes_are_base64_and_pointer_false_is_kept():
    raw = ld(1, s(1, "s1")) + entry(2, "u", b"p") + s(3, "Opaque") + vi(5, 0)
    obj = protobuf.decode(envelope("v1", "Secret", raw))
    assert obj["data"] == {"u": "cA=="} and obj["type"] == "Opaque" and obj["immutable"] is False


def test_service_ports_with_int_or_string():
    port = s(1, "http") + s(2, "TCP") + vi(3, 80) + ld(4, vi(1, 0) + vi(2, 8080)) + vi(5, 0)
    named = s(2, "TCP") + vi(3, 443) + ld(4, vi(1, 1) + s(3, "https"))
    spec = ld(1, port) + ld(1, named) + entry(2, "app", b"web") + s(4, "ClusterIP")
    obj = protobuf.decode(envelope("v1", "Service", ld(1, s(1, "svc")) + ld(2, spec)))
    assert obj["spec"] == {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                                     {"protocol": "TCP", "port": 443, "targetPort": "https"}],
                           "selector": {"app": "web"}, "type": "ClusterIP"}


def test_unknown_kind_is_415_and_garbage_is_400():
    with pytest.raises(StatusError) as e:
        protobuf.decode(envelope("v1", "Pod", b""))
    assert e.value.code == 415
    with pytest.raises(StatusError) as e:
        protobuf.decode(b"not protobuf")
    assert e.value.code == 400
    with pytest.raises(StatusError) as e:
        protobuf.decode(protobuf.MAGIC + b"\x0a\xff")
    assert e.value.code == 400
