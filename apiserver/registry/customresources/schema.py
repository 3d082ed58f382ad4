"""A custom resource's structural schema (a CRD version's openAPIV3Schema) applied
to an object: validation with upstream's messages, defaulting, pruning.

Pure functions over plain dicts. Messages are worded as kube-openapi's validator
words them once apiextensions-apiserver turns them into field errors:
`spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime
from functools import lru_cache
import ipaddress
import uuid

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

_GO_TYPE = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return _GO_TYPE.get(type(value), "object")


def _body(path: str) -> str:
    return f"{path or 'body'} in body"


def _is_type(value, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


@lru_cache(maxsize=512)
def _pattern(p: str) -> re.Pattern | None:
    try:
        return re.compile(p)
    except re.error:
        return None


def _check_format(fmt: str, value: str) -> bool:
    try:
        if fmt == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return "T" in value or "t" in value
        if fmt == "date":
            datetime.strptime(value, "%Y-%m-%d")
        elif fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "ipv4":
            ipaddress.IPv4Address(value)
        elif fmt == "ipv6":
            ipaddress.IPv6Address(value)
        elif fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
        elif fmt == "email":
            return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None
        elif fmt == "byte":
            import base64
            base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return False
    return True


def validate(schema: dict, value, path: str = "") -> list[Cause]:
    """Every problem of `value` against `schema`, in document order."""
    out: list[Cause] = []
    _validate(schema or {}, value, path, out)
    return out


def _validate(s: dict, v, path: str, out: list[Cause]) -> None:
    if v is None:
        if not s.get("nullable") and s.get("type"):
            out.append(field.type_invalid(path, "null", f"{_body(path)} must be of type {s['type']}: \"null\""))
        return
    if s.get("x-kubernetes-int-or-string"):
        if not (isinstance(v, str) or _is_type(v, "integer")):
            out.append(field.type_invalid(path, _type_name(v),
                                          f"{_body(path)} must be of type integer,string: {field.show(_type_name(v))}"))
            return
    elif (t := s.get("type")) and not _is_type(v, t):
        out.append(field.type_invalid(path, _type_name(v),
                                      f"{_body(path)} must be of type {t}: {field.show(_type_name(v))}"))
        return
    if "enum" in s and v not in s["enum"]:
        out.append(field.not_supported(path, v, s["enum"]))
    if isinstance(v, str):
        _string(s, v, path, out)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        _number(s, v, path, out)
    elif isinstance(v, list):
        _array(s, v, path, out)
    elif isinstance(v, dict):
        _object(s, v, path, out)


def _string(s: dict, v: str, path: str, out: list[Cause]) -> None:
    if "maxLength" in s and len(v) > s["maxLength"]:
        out.append(field.too_long(path, s["maxLength"]))
    if "minLength" in s and len(v) < s["minLength"]:
        out.append(field.invalid(path, v, f"{_body(path)} should be at least {s['minLength']} chars long"))
    if "pattern" in s:
        rx = _pattern(s["pattern"])
        if rx is not None and not rx.search(v):
            out.append(field.invalid(path, v, f"{_body(path)} should match '{s['pattern']}'"))
    fmt = s.get("format")
    if fmt and not s.get("x-kubernetes-int-or-string") and not _check_format(fmt, v):
        out.append(field.invalid(path, v, f"{_body(path)} must be of type {fmt}: {field.show(v)}"))


def _number(s: dict, v, path: str, out: list[Cause]) -> None:
    if "maximum" in s:
        if s.get("exclusiveMaximum") and v >= s["maximum"]:
            out.append(field.invalid(path, v, f"{_body(path)} should be less than {s['maximum']}"))
        elif v > s["maximum"]:
            out.append(field.invalid(path, v, f"{_body(path)} should be less than or equal to {s['maximum']}"))
    if "minimum" in s:
        if s.get("exclusiveMinimum") and v <= s["minimum"]:
            out.append(field.invalid(path, v, f"{_body(path)} should be greater than {s['minimum']}"))
        elif v < s["minimum"]:
            out.append(field.invalid(path, v, f"{_body(path)} should be greater than or equal to {s['minimum']}"))
    if s.get("multipleOf") and (v / s["multipleOf"]) % 1:
        out.append(field.invalid(path, v, f"{_body(path)} should be a multiple of {s['multipleOf']}"))


def _array(s: dict, v: list, path: str, out: list[Cause]) -> None:
    if "maxItems" in s and len(v) > s["maxItems"]:
        out.append(field.too_many(path, len(v), s["maxItems"]))
    if "minItems" in s and len(v) < s["minItems"]:
        out.append(field.invalid(path, len(v), f"{_body(path)} should have at least {s['minItems']} items"))
    items = s.get("items")
    if isinstance(items, dict):
        for i, x in enumerate(v):
            _validate(items, x, field.index(path, i), out)
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set" or s.get("uniqueItems"):
        seen: list = []
        for i, x in enumerate(v):
            if x in seen:
                out.append(field.duplicate(field.index(path, i), x))
            else:
                seen.append(x)
    elif list_type == "map":
        keys = s.get("x-kubernetes-list-map-keys") or []
        seen_keys: list = []
        for i, x in enumerate(v):
            if not isinstance(x, dict):
                continue
            k = tuple(x.get(name, _default_of(items, name)) for name in keys)
            if k in seen_keys:
                out.append(field.duplicate(field.index(path, i), {n: x.get(n) for n in keys if n in x}))
            else:
                seen_keys.append(k)


def _default_of(items, name: str):
    return (((items or {}).get("properties") or {}).get(name) or {}).get("default")


def _object(s: dict, v: dict, path: str, out: list[Cause]) -> None:
    for name in s.get("required") or ():
        if name not in v:
            out.append(field.required(field.child(path, name)))
    if "maxProperties" in s and len(v) > s["maxProperties"]:
        out.append(field.too_many(path, len(v), s["maxProperties"]))
    if "minProperties" in s and len(v) < s["minProperties"]:
        out.append(field.invalid(path, len(v), f"{_body(path)} should have at least {s['minProperties']} properties"))
    if s.get("x-kubernetes-embedded-resource"):
        for name in ("apiVersion", "kind"):
            if not v.get(name):
                out.append(field.required(field.child(path, name), "must not be empty"))
    props = s.get("properties") or {}
    extra = s.get("additionalProperties")
    for name, x in v.items():
        sub = props.get(name)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is not None:
            _validate(sub, x, field.child(path, name), out)


# ---- defaulting and pruning ------------------------------------------------------

def apply_defaults(schema: dict, value) -> None:
    """Fill in `default`s of absent properties, in place (upstream defaults after decoding)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name, sub in props.items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
        for name, x in value.items():
            sub = props.get(name)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            if sub is not None:
                apply_defaults(sub, x)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for x in value:
            apply_defaults(schema["items"], x)


_META_KEPT = ("apiVersion", "kind", "metadata")


def prune(schema: dict, value, root: bool = True) -> list[str]:
    """Drop fields the schema does not declare (unless it preserves unknown fields); return their paths."""
    dropped: list[str] = []
    _prune(schema, value, "", dropped, root)
    return dropped


def _prune(s: dict, v, path: str, dropped: list[str], root: bool) -> None:
    if isinstance(v, dict):
        preserve = s.get("x-kubernetes-preserve-unknown-fields")
        props = s.get("properties") or {}
        extra = s.get("additionalProperties")
        kept = _META_KEPT if root or s.get("x-kubernetes-embedded-resource") else ()
        for name in list(v):
            sub = props.get(name)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is not None:
                if not (root and name == "metadata"):
                    _prune(sub, v[name], field.child(path, name), dropped, False)
            elif name in kept or preserve or extra is True:
                continue
            else:
                del v[name]
                dropped.append(field.child(path, name))
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for i, x in enumerate(v):
            _prune(s["items"], x, field.index(path, i), dropped, False)
