"""kubectl's protobuf request bodies, built here with a small encoder."""
import pytest

from apiserver.http import protobuf
from apiserver.machinery.errors import StatusError
from tests.protowire import entry, envelope, ld, s, varint, vi


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


def test_a_pod_template_keeps_probes_affinity_and_lifecycle():
    probe = ld(1, ld(2, s(1, "/index.html") + ld(2, vi(1, 0) + vi(2, 80)))) + vi(4, 1) + vi(6, 1)
    container = s(1, "web") + s(2, "nginx") + ld(11, probe) + ld(12, ld(2, ld(4, vi(1, 5))))
    term = ld(1, s(1, "zone") + s(2, "In") + s(3, "a"))
    affinity = ld(1, ld(1, ld(1, term)))
    exit_codes = ld(2, s(2, "In") + ld(3, varint(3) + varint(5)))  # packed repeated int32
    pod_spec = ld(2, container) + ld(18, affinity)
    job = ld(1, s(1, "j")) + ld(2, ld(6, ld(2, pod_spec)) + ld(11, ld(1, s(1, "FailJob") + exit_codes)))
    obj = protobuf.decode(envelope("batch/v1", "Job", job))
    spec = obj["spec"]["template"]["spec"]
    c = spec["containers"][0]
    assert c["readinessProbe"] == {"httpGet": {"path": "/index.html", "port": 80}, "periodSeconds": 1,
                                   "failureThreshold": 1}
    assert c["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert spec["affinity"] == {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
    assert obj["spec"]["podFailurePolicy"] == {"rules": [{"action": "FailJob",
                                                          "onExitCodes": {"operator": "In", "values": [3, 5]}}]}


def test_a_field_the_tables_lack_is_refused_not_dropped():
    body = envelope("apps/v1", "Deployment", ld(1, s(1, "d")) + ld(2, ld(3, ld(2, ld(99, b"")))))
    with pytest.raises(StatusError) as e:
        protobuf.decode(body)
    assert e.value.code == 400 and "field 99 of PodSpec is not known" in e.value.message
