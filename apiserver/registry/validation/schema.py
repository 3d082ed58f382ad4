"""Structural checks against the upstream OpenAPI schemas (kubernetes-validate).

Types, required fields and enums, answered with the field path of the problem.
One jsonschema validator per definition, built on first use and kept: building
is the slow part, validating a typical Pod takes well under a millisecond.
"""
from __future__ import annotations

from functools import cache

import jsonschema
from referencing import Registry, Resource as RefResource
from referencing.jsonschema import DRAFT202012

from apiserver.machinery import schemas
from apiserver.machinery.errors import Cause

from . import field

_MAX_CAUSES = 20


@cache
def _registry() -> Registry:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": schemas.definitions()}
    return Registry().with_resource("urn:k8s", RefResource(contents=root, specification=DRAFT202012))


@cache
def validator(definition: str) -> jsonschema.protocols.Validator:
    schema = {"$ref": f"urn:k8s#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def _path(parts) -> str:
    out = ""
    for p in parts:
        out = field.index(out, p) if isinstance(p, int) else field.child(out, str(p))
    return out


def _type_name(expected) -> str:
    if isinstance(expected, list):
        expected = [t for t in expected if t != "null"]
        return expected[0] if len(expected) == 1 else " or ".join(expected)
    return str(expected)


def _json_type(value) -> str:
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


def _cause(err: jsonschema.ValidationError) -> Cause | None:
    path = _path(err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return field.required(field.child(path, missing))
    if err.validator == "type":
        # Worded as upstream's OpenAPI (CRD) validation: the bad value shown is its type.
        t = _type_name(err.validator_value)
        got = _json_type(err.instance)
        return field.type_invalid(path, got, f"{path} in body must be of type {t}: {field.show(got)}")
    if err.validator == "enum":
        return field.not_supported(path, err.instance, [v for v in err.validator_value if v is not None])
    if err.validator == "oneOf":
        # IntOrString / Quantity: the only oneOf shapes upstream uses.
        got = _json_type(err.instance)
        return field.type_invalid(path, got, f"{path} in body must be of type string or integer: {field.show(got)}")
    return None


def validate(definition: str, obj: dict) -> list[Cause]:
    """Schema problems with `obj`, deepest-first order as jsonschema finds them, capped."""
    if definition not in schemas.definitions():
        return []
    causes: list[Cause] = []
    for err in validator(definition).iter_errors(obj):
        c = _cause(err)
        if c is not None:
            causes.append(c)
        if len(causes) >= _MAX_CAUSES:
            break
    return causes
