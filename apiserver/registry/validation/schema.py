"""Structural checks against the upstream OpenAPI schemas (kubernetes-validate).

Types, required fields and enums, answered with the field path of the problem.

The schemas use a handful of keywords (type, properties, required,
additionalProperties, items, enum, oneOf, $ref); each definition is compiled
once into a small Python function, which checks a typical Pod in tens of
microseconds: a generic `jsonschema` validator took about a millisecond on
every write. `jsonschema_causes` keeps the generic path for cross-checking
(tests/unit/validation/test_schema.py proves both agree).
"""
from __future__ import annotations

from functools import cache
from typing import Any, Callable

from apiserver.machinery import schemas
from apiserver.machinery.errors import Cause

from . import field

_MAX_CAUSES = 20
Check = Callable[[Any, str, list], None]


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is(value, t: str) -> bool:
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    return True


def _type_name(types: list[str]) -> str:
    shown = [t for t in types if t != "null"]
    return shown[0] if len(shown) == 1 else " or ".join(shown)


def type_cause(path: str, value, expected: str) -> Cause:
    # Worded as upstream's OpenAPI (CRD) validation: the bad value shown is its type.
    got = json_type(value)
    return field.type_invalid(path, got, f"{path} in body must be of type {expected}: {field.show(got)}")


class _Compiler:
    def __init__(self) -> None:
        self.compiled: dict[str, Check] = {}

    def definition(self, name: str) -> Check:
        fn = self.compiled.get(name)
        if fn is not None:
            return fn
        slot: list[Check] = []

        def deferred(value, path, out):  # recursion (JSONSchemaProps) resolves on first call
            slot[0](value, path, out)

        self.compiled[name] = deferred
        fn = self.compile(schemas.definitions().get(name) or {})
        slot.append(fn)
        self.compiled[name] = fn
        return fn

    def compile(self, s: dict) -> Check:
        ref = schemas.ref_name(s)
        if ref is not None:
            return self.definition(ref)
        if "allOf" in s and len(s["allOf"]) == 1:
            return self.compile(s["allOf"][0])
        raw_types = s.get("type")
        types = [raw_types] if isinstance(raw_types, str) else list(raw_types or [])
        expected = _type_name(types) if types else ""
        enum = s.get("enum")
        alternatives = [self.compile(o) for o in s.get("oneOf") or []]
        props = {k: self.compile(v) for k, v in (s.get("properties") or {}).items()}
        required = tuple(s.get("required") or ())
        extra = s.get("additionalProperties")
        extra_fn = self.compile(extra) if isinstance(extra, dict) else None
        items = s.get("items")
        items_fn = self.compile(items) if isinstance(items, dict) else None

        if enum is None and not alternatives:
            return _plain_check(types, expected, props, required, extra_fn, items_fn)

        def check(value, path: str, out: list) -> None:
            if types and not any(_is(value, t) for t in types):
                out.append(type_cause(path, value, expected))
                return
            if enum is not None and value not in enum:
                out.append(field.not_supported(path, value, [v for v in enum if v is not None]))
            if alternatives:
                passing = 0
                for alt in alternatives:
                    scratch: list = []
                    alt(value, path, scratch)
                    passing += not scratch
                if passing != 1:
                    out.append(type_cause(path, value, "string or integer"))
            if isinstance(value, dict):
                for k in required:
                    if k not in value:
                        out.append(field.required(field.child(path, k)))
                for k, v in value.items():
                    fn = props.get(k, extra_fn)
                    if fn is not None:
                        fn(v, field.child(path, k), out)
            elif items_fn is not None and isinstance(value, list):
                for i, v in enumerate(value):
                    items_fn(v, field.index(path, i), out)
        return check


# JSON types a plain isinstance answers exactly ("integer" and "number" need more:
# a bool is an int to Python, and 2.0 is an integer to JSON Schema).
_PY_TYPES = {"string": str, "object": dict, "array": list, "boolean": bool, "null": type(None)}


def _type_test(types: list[str]) -> Callable[[Any], bool] | tuple | None:
    """None when any value will do; a tuple for isinstance when that is exact; else a predicate."""
    if not types:
        return None
    if all(t in _PY_TYPES for t in types):
        return tuple(_PY_TYPES[t] for t in types)
    return lambda value: any(_is(value, t) for t in types)


def _plain_check(types, expected, props, required, extra_fn, items_fn) -> Check:
    """The check of a schema with neither enum nor oneOf, specialised for what it has:
    almost every node of an object is one, and a leaf costs a single isinstance.
    Verdicts, causes and their order are those of the general check."""
    test = _type_test(types)
    py = test if isinstance(test, tuple) else None
    pred = test if callable(test) else None

    def bad_type(value, path: str, out: list) -> bool:
        if py is not None:
            if isinstance(value, py):
                return False
        elif pred is None or pred(value):
            return False
        out.append(type_cause(path, value, expected))
        return True

    if not props and not required and extra_fn is None and items_fn is None:
        if py is not None:
            def leaf(value, path: str, out: list) -> None:
                if not isinstance(value, py):
                    out.append(type_cause(path, value, expected))
            return leaf
        if pred is None:
            return lambda value, path, out: None
        return lambda value, path, out: bad_type(value, path, out) and None

    def node(value, path: str, out: list) -> None:
        if bad_type(value, path, out):
            return
        if isinstance(value, dict):
            for k in required:
                if k not in value:
                    out.append(field.required(f"{path}.{k}" if path else k))
            for k, v in value.items():
                fn = props.get(k, extra_fn)
                if fn is not None:
                    fn(v, f"{path}.{k}" if path else k, out)
        elif items_fn is not None and isinstance(value, list):
            for i, v in enumerate(value):
                items_fn(v, f"{path}[{i}]", out)
    return node


@cache
def _compiler() -> _Compiler:
    return _Compiler()


def validate(definition: str, obj: dict) -> list[Cause]:
    """Schema problems with `obj` (at most a screenful: the first ones found)."""
    if definition not in schemas.definitions():
        return []
    causes: list[Cause] = []
    _compiler().definition(definition)(obj, "", causes)
    return causes[:_MAX_CAUSES]


# ---- the generic validator, kept to cross-check the compiled one -------------------

@cache
def _jsonschema_validator(definition: str):
    import jsonschema
    from referencing import Registry, Resource as RefResource
    from referencing.jsonschema import DRAFT202012

    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": schemas.definitions()}
    registry = Registry().with_resource("urn:k8s", RefResource(contents=root, specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"urn:k8s#/$defs/{definition}"}, registry=registry)


def jsonschema_causes(definition: str, obj: dict) -> list[Cause]:
    out: list[Cause] = []
    for err in _jsonschema_validator(definition).iter_errors(obj):
        path = ""
        for p in err.absolute_path:
            path = field.index(path, p) if isinstance(p, int) else field.child(path, str(p))
        if err.validator == "required":
            out.append(field.required(field.child(path, err.message.split("'")[1])))
        elif err.validator == "type":
            t = err.validator_value
            out.append(type_cause(path, err.instance, _type_name([t] if isinstance(t, str) else t)))
        elif err.validator == "enum":
            out.append(field.not_supported(path, err.instance, [v for v in err.validator_value if v is not None]))
        elif err.validator == "oneOf":
            out.append(type_cause(path, err.instance, "string or integer"))
    return out
