"""Decode-time type check of a built-in object against its schema, as Go's typed decoding.

kube-apiserver decodes a built-in kind's body into Go structs, so a value of the
wrong JSON type (`metadata.name: 5`, `spec: "zz"` on a Namespace) fails decoding
with a 400 before anything looks at the object:

  json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string

Everything downstream here (names, strategies, defaulting, validation) may then
rely on each field having its declared shape. Custom resources are unstructured
upstream and keep their 422s from schema validation; they have no schema here.
`null` is accepted anywhere, as Go leaves the zero value.
"""
from __future__ import annotations

from typing import Any

from apiserver.machinery import schemas


def _json_type(value: Any) -> str:
    """Go's word for a JSON value's type in unmarshal errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _allowed(s: dict) -> set[str]:
    """JSON schema types a resolved schema allows; empty means anything."""
    types = set(schemas.types_of(s))
    for alt in s.get("oneOf") or ():
        alt_types = schemas.types_of(alt)
        if not alt_types:
            return set()
        types |= alt_types
    return types


def _fits(value: Any, types: set[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return bool(types & {"integer", "number"})
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, list):
        return "array" in types
    return "object" in types


def _go_type(schema: dict) -> str:
    """How Go would name the field's type: v1.NamespaceSpec, string, int64, []v1.Container, map[string]string."""
    name = schemas.ref_name(schema)
    if name is not None:
        return ".".join(name.split(".")[-2:])
    s = schemas.resolve(schema)
    types = _allowed(s)
    if "array" in types:
        items = s.get("items")
        return "[]" + (_go_type(items) if isinstance(items, dict) else "interface {}")
    if "object" in types:
        extra = s.get("additionalProperties")
        return "map[string]" + (_go_type(extra) if isinstance(extra, dict) else "interface {}")
    if "integer" in types:
        return s.get("format") or "int64"
    if "number" in types:
        return "float64"
    if "boolean" in types:
        return "bool"
    return "string" if types == {"string"} else "interface {}"


def _free_form(s: dict) -> bool:
    return bool(s.get("x-kubernetes-preserve-unknown-fields") or s.get("x-kubernetes-embedded-resource"))


def first_type_error(obj: Any, schema: dict, kind: str | None = None) -> str | None:
    """Go's unmarshal error for the first value (in document order) whose JSON type the
    schema rules out, or None. Iterative: the body may be as deep as decoding allows.
    `kind` names the outermost struct (default: the schema's kind)."""
    if schema.get(schemas.CUSTOM_RESOURCE):
        return None  # decoded as unstructured upstream: its schema reports wrong types (422)
    if kind is None:
        kind = ((schema.get("x-kubernetes-group-version-kind") or [{}])[0]).get("kind", "Object")
    # (value, schema, dotted path without list indices as Go writes it, enclosing struct)
    stack: list[tuple[Any, dict, str, str]] = [(obj, schema, "", kind)]
    facts_of = schemas.memo("typecheck")
    while stack:
        value, sch, path, struct = stack.pop()
        if value is None:
            continue
        hit = facts_of.get(id(sch))
        if hit is None or hit[0] is not sch:
            hit = facts_of[id(sch)] = (sch, _facts(sch))
        types, free, short_ref, props, extra, items = hit[1]
        if types and not _fits(value, types):
            if isinstance(value, float) and "integer" in types:
                got = f"number {value:g}"
            else:
                got = _json_type(value)
            where = f"Go struct field {struct}.{path}" if path else "Go value"
            return f"json: cannot unmarshal {got} into {where} of type {_go_type(sch)}"
        if free:
            continue
        inner = struct if short_ref is None else short_ref
        children: list[tuple[Any, dict, str, str]] = []
        if isinstance(value, dict):
            for key, child in value.items():
                child_schema = props.get(key)
                if child_schema is None:
                    child_schema = extra
                if child_schema is not None:
                    children.append((child, child_schema, f"{path}.{key}" if path else key, inner))
        elif isinstance(value, list):
            if items is not None:
                children.extend((child, items, path, inner) for child in value)
        stack.extend(reversed(children))
    return None


def _facts(sch: dict) -> tuple:
    """(allowed types, free-form, the struct name a $ref gives, properties, the schema of a
    map's values or None, the schema of a list's items or None) of one schema node."""
    ref = schemas.ref_name(sch)
    s = schemas.resolve(sch)
    extra, items = s.get("additionalProperties"), s.get("items")
    return (frozenset(_allowed(s)), _free_form(s), ref.rsplit(".", 1)[-1] if ref else None,
            s.get("properties") or {}, extra if isinstance(extra, dict) else None,
            items if isinstance(items, dict) else None)
