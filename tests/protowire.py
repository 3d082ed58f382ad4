"""Writing protobuf wire format by hand, for tests that post kubectl-style protobuf bodies
(apiserver/http/protobuf.py reads them): field helpers and the k8s\\0 envelope."""
from __future__ import annotations

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


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
    """A length-delimited field: a message, string or bytes."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vi(num: int, n: int) -> bytes:
    """A varint field: a number or bool."""
    return varint(num << 3) + varint(n)


def s(num: int, text: str) -> bytes:
    return ld(num, text.encode())


def entry(num: int, k: str, v: bytes) -> bytes:
    """One map entry (maps are repeated key/value messages)."""
    return ld(num, s(1, k) + ld(2, v))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    """runtime.Unknown behind the magic: typeMeta (1) and the object's bytes (2)."""
    return MAGIC + ld(1, s(1, api_version) + s(2, kind)) + ld(2, raw)
