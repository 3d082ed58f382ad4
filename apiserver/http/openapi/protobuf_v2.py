"""/openapi/v2 as protobuf: the gnostic OpenAPI v2 `Document` message.

kubectl (and client-go's discovery) only ever ask for v2 in this encoding;
kubectl 1.27 explains from it. The message is written by hand from the public
field numbers of gnostic's openapiv2 schema: only the parts our Swagger
document uses are encoded. Vendor extensions, defaults and enums travel as
YAML text (`Any.yaml`), as gnostic carries them; JSON is valid YAML.
"""
from __future__ import annotations

import hashlib
import struct
from functools import lru_cache

import orjson

from . import documents


# ---- wire format ---------------------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _tag(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _tag(field, 2) + _varint(len(data)) + data


def _str(field: int, s: str | None) -> bytes:
    return _bytes(field, s.encode()) if s else b""


def _bool(field: int, v) -> bytes:
    return _tag(field, 0) + b"\x01" if v else b""


def _int(field: int, v) -> bytes:
    return _tag(field, 0) + _varint(int(v)) if v is not None else b""


def _double(field: int, v) -> bytes:
    return _tag(field, 1) + struct.pack("<d", float(v)) if v is not None else b""


def _msg(field: int, body: bytes, always: bool = False) -> bytes:
    return _bytes(field, body) if (body or always) else b""


def _strs(field: int, values) -> bytes:
    return b"".join(_str(field, v) for v in values or ())


def _any(value) -> bytes:
    """gnostic Any: the value as YAML text (field 2)."""
    return _str(2, orjson.dumps(value).decode())


def _extensions(field: int, node: dict) -> bytes:
    return b"".join(_msg(field, _str(1, k) + _msg(2, _any(v), True))
                    for k, v in node.items() if k.startswith("x-"))


# ---- messages ---------------------------------------------------------------------------

def schema(s: dict) -> bytes:
    out = [
        _str(1, s.get("$ref")), _str(2, s.get("format")), _str(3, s.get("title")), _str(4, s.get("description")),
        _msg(5, _any(s["default"]), True) if "default" in s else b"",
        _double(6, s.get("multipleOf")), _double(7, s.get("maximum")), _bool(8, s.get("exclusiveMaximum")),
        _double(9, s.get("minimum")), _bool(10, s.get("exclusiveMinimum")),
        _int(11, s.get("maxLength")), _int(12, s.get("minLength")), _str(13, s.get("pattern")),
        _int(14, s.get("maxItems")), _int(15, s.get("minItems")), _bool(16, s.get("uniqueItems")),
        _int(17, s.get("maxProperties")), _int(18, s.get("minProperties")),
        _strs(19, s.get("required")),
        b"".join(_msg(20, _any(v), True) for v in s.get("enum") or ()),
    ]
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out.append(_msg(21, _msg(1, schema(extra), True), True))
    elif isinstance(extra, bool):
        out.append(_msg(21, _tag(2, 0) + (b"\x01" if extra else b"\x00"), True))
    t = s.get("type")
    if t:
        out.append(_msg(22, _strs(1, [t] if isinstance(t, str) else t)))
    items = s.get("items")
    if isinstance(items, dict):
        out.append(_msg(23, _msg(1, schema(items), True), True))
    out.extend(_msg(24, schema(x), True) for x in s.get("allOf") or ())
    props = s.get("properties")
    if props:
        out.append(_msg(25, b"".join(_msg(1, _str(1, k) + _msg(2, schema(v), True)) for k, v in props.items()), True))
    out.append(_extensions(31, s))
    return b"".join(out)


def _parameter(p: dict) -> bytes:
    if p.get("in") == "body":
        body = (_str(1, p.get("description")) + _str(2, p["name"]) + _str(3, "body") + _bool(4, p.get("required"))
                + _msg(5, schema(p.get("schema") or {}), True))
        return _msg(1, _msg(1, body, True), True)
    common = _bool(1, p.get("required")) + _str(2, p["in"]) + _str(3, p.get("description")) + _str(4, p["name"])
    if p["in"] == "path":
        sub = _msg(4, common + _str(5, p.get("type")) + _bool(19, p.get("uniqueItems")), True)
    else:  # query
        sub = _msg(3, common + _str(6, p.get("type")) + _bool(20, p.get("uniqueItems")), True)
    return _msg(1, _msg(2, sub, True), True)


def _parameters(field: int, params) -> bytes:
    return b"".join(_msg(field, _parameter(p), True) for p in params or ())


def _responses(responses: dict) -> bytes:
    out = b""
    for code, r in responses.items():
        resp = _str(1, r.get("description"))
        if "schema" in r:
            resp += _msg(2, _msg(1, schema(r["schema"]), True), True)
        out += _msg(1, _str(1, code) + _msg(2, _msg(1, resp, True), True), True)
    return out


def _operation(op: dict) -> bytes:
    return b"".join([
        _strs(1, op.get("tags")), _str(3, op.get("description")), _str(5, op.get("operationId")),
        _strs(6, op.get("produces")), _strs(7, op.get("consumes")), _parameters(8, op.get("parameters")),
        _msg(9, _responses(op.get("responses") or {}), True), _strs(10, op.get("schemes")),
        _extensions(13, op),
    ])


_METHOD_FIELDS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: dict) -> bytes:
    out = b"".join(_msg(_METHOD_FIELDS[m], _operation(item[m]), True) for m in _METHOD_FIELDS if m in item)
    return out + _parameters(9, item.get("parameters")) + _extensions(10, item)


def encode_document(doc: dict) -> bytes:
    paths = b"".join(_msg(2, _str(1, p) + _msg(2, _path_item(item), True), True) for p, item in doc["paths"].items())
    definitions = b"".join(_msg(1, _str(1, n) + _msg(2, schema(s), True), True)
                           for n, s in doc.get("definitions", {}).items())
    security = b"".join(
        _msg(12, b"".join(_msg(1, _str(1, name) + _msg(2, _strs(1, scopes), True), True)
                          for name, scopes in req.items()), True)
        for req in doc.get("security") or ())
    sec_defs = b""
    for name, d in (doc.get("securityDefinitions") or {}).items():
        api_key = _str(1, d.get("type")) + _str(2, d.get("name")) + _str(3, d.get("in")) + _str(4, d.get("description"))
        sec_defs += _msg(1, _str(1, name) + _msg(2, _msg(2, api_key, True), True), True)
    info = doc.get("info") or {}
    return b"".join([
        _str(1, doc.get("swagger")), _msg(2, _str(1, info.get("title")) + _str(2, info.get("version")), True),
        _msg(8, paths, True), _msg(9, definitions, True), security, _msg(13, sec_defs),
    ])


def document() -> documents.Document:
    return _document(documents.generation())


@lru_cache(maxsize=1)
def _document(gen: int) -> documents.Document:
    body = encode_document(documents.v2_dict())
    return documents.Document(body=body, hash=hashlib.sha512(body).hexdigest().upper())
