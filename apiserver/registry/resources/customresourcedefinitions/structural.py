"""Whether a CRD version's openAPIV3Schema is structural, worded as
apiextensions-apiserver's structural-schema validation (ValidateStructural):

- every specified field has a type (root, array items, object fields), unless it is
  x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields;
- arrays have items; the root is an object without additionalProperties;
- x-kubernetes-embedded-resource objects are typed objects with properties;
- at the root (and in embedded resources) kind and apiVersion are strings and
  metadata an object that may only name `name` and `generateName`;
- value validations (allOf, anyOf, oneOf, not) only restrict: no types,
  defaults, descriptions or extensions there, and never metadata; every field they
  name is specified outside them too (completeness).

Upstream sorts these errors by their text; so do we.
"""
from __future__ import annotations

import re

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

ROOT, ITEM, FIELD = "root", "item", "field"
_EMPTY_TYPE = {ROOT: "must not be empty at the root", ITEM: "must not be empty for specified array items",
               FIELD: "must not be empty for specified object fields"}
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
# RE2 syntax Python's re lacks (unicode classes, \z): not a reason to refuse a pattern upstream accepts
_GO_ONLY = re.compile(r"\\[pP]\{[^}]*\}|\\[pP][A-Za-z]|\\z")

# What a schema under allOf/anyOf/oneOf/not may not say, with upstream's wording.
_NESTED_FORBIDDEN = (
    ("type", "must be empty to be structural"),
    ("default", "must be undefined to be structural"),
    ("title", "must be empty to be structural"),
    ("description", "must be empty to be structural"),
    ("nullable", "must be false to be structural"),
    ("externalDocs", "must be undefined to be structural"),
    ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
    ("x-kubernetes-embedded-resource", "must be false to be structural"),
    ("x-kubernetes-int-or-string", "must be false to be structural"),
    ("x-kubernetes-list-map-keys", "must be empty to be structural"),
    ("x-kubernetes-list-type", "must be undefined to be structural"),
    ("x-kubernetes-map-type", "must be undefined to be structural"),
    ("x-kubernetes-validations", "must be empty to be structural"),
)


def errors(schema: dict, path: str) -> list[Cause]:
    """Why `schema` (at `path`, e.g. spec.versions[0].schema.openAPIV3Schema) is not structural."""
    out: list[Cause] = []
    _invariants(schema, ROOT, path, out)
    _completeness(schema, path, schema, path, out)
    return sorted(out, key=lambda c: f"{c.field}: {c.message}")


def _set(value) -> bool:
    """Whether a schema keyword counts as specified (Go zero values do not)."""
    return value not in (None, False, "", [], {})


def _invariants(s, level: str, path: str, out: list[Cause]) -> None:
    if not isinstance(s, dict):
        return
    t = s.get("type") or ""
    items = s.get("items")
    if t == "array" and items is None:
        out.append(field.required(f"{path}.items", "must be specified"))
    if isinstance(items, dict):
        _invariants(items, ITEM, f"{path}.items", out)
    for name, sub in (s.get("properties") or {}).items():
        _invariants(sub, FIELD, f"{path}.properties[{name}]", out)
    extra = s.get("additionalProperties")
    if extra is not None:
        if level == ROOT:
            out.append(field.forbidden(f"{path}.additionalProperties", "must not be used at the root"))
        if isinstance(extra, dict):
            _invariants(extra, FIELD, f"{path}.additionalProperties", out)
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    if int_or_string and preserve:
        out.append(field.invalid(f"{path}.x-kubernetes-preserve-unknown-fields", True,
                                 "must be false if x-kubernetes-int-or-string is true"))
    if int_or_string and embedded:
        out.append(field.invalid(f"{path}.x-kubernetes-embedded-resource", True,
                                 "must be false if x-kubernetes-int-or-string is true"))
    _value_validation(s, level, path, out, skip_any_of=s.get("anyOf") == _INT_OR_STRING,
                      skip_first_all_of_any_of=_first_all_of_is_int_or_string(s))
    if embedded and t != "object":
        if not t:
            out.append(field.required(f"{path}.type", "must be object if x-kubernetes-embedded-resource is true"))
        else:
            out.append(field.invalid(f"{path}.type", t, "must be object if x-kubernetes-embedded-resource is true"))
    elif not t and not int_or_string and not preserve:
        out.append(field.required(f"{path}.type", _EMPTY_TYPE[level]))
    if embedded and extra is not None:
        out.append(field.forbidden(f"{path}.additionalProperties",
                                   "must not be used if x-kubernetes-embedded-resource is set"))
    if level == ROOT and t and t != "object":
        out.append(field.invalid(f"{path}.type", t, "must be object at the root"))
    props = s.get("properties") or {}
    resource = level == ROOT or embedded
    for name in ("kind", "apiVersion"):
        if resource and isinstance(props.get(name), dict) and props[name].get("type", "") != "string":
            out.append(field.invalid(f"{path}.properties[{name}].type", props[name].get("type", ""), "must be string"))
    if isinstance(props.get("metadata"), dict):
        _metadata(props["metadata"], resource, level, f"{path}.properties[metadata]", out)
    if embedded and not preserve and not props:
        out.append(field.required(f"{path}.properties", "must not be empty if x-kubernetes-embedded-resource is "
                                                        "true without x-kubernetes-preserve-unknown-fields"))


def _first_all_of_is_int_or_string(s: dict) -> bool:
    all_of = s.get("allOf")
    return isinstance(all_of, list) and bool(all_of) and isinstance(all_of[0], dict) and \
        all_of[0].get("anyOf") == _INT_OR_STRING


def _metadata(s: dict, resource: bool, level: str, path: str, out: list[Cause]) -> None:
    if resource and s.get("type", "") != "object":
        out.append(field.invalid(f"{path}.type", s.get("type", ""), "must be object"))
    if level != ROOT:
        return
    # What is left once type, default and a name/generateName-only properties are ignored must be nothing.
    rest = {k: v for k, v in s.items() if k not in ("type", "default") and _set(v)}
    if set(rest.get("properties") or {}) <= {"name", "generateName"}:
        rest.pop("properties", None)
    if rest:
        out.append(field.forbidden(path, "must not specify anything other than name and generateName, but metadata "
                                         "is implicitly specified"))


def _value_validation(s: dict, level: str, path: str, out: list[Cause], *, skip_any_of: bool = False,
                      skip_first_all_of_any_of: bool = False) -> None:
    if not skip_any_of:
        for i, sub in enumerate(_schemas(s.get("anyOf"))):
            _nested(sub, level, f"{path}.anyOf[{i}]", out)
    for i, sub in enumerate(_schemas(s.get("allOf"))):
        _nested(sub, level, f"{path}.allOf[{i}]", out, skip_any_of=skip_first_all_of_any_of and i == 0)
    for i, sub in enumerate(_schemas(s.get("oneOf"))):
        _nested(sub, level, f"{path}.oneOf[{i}]", out)
    if isinstance(s.get("not"), dict):
        _nested(s["not"], level, f"{path}.not", out)
    pattern = s.get("pattern")
    if isinstance(pattern, str) and pattern:
        try:
            re.compile(_GO_ONLY.sub("x", pattern))
        except re.error as e:
            out.append(field.invalid(f"{path}.pattern", pattern,
                                     f"must be a valid regular expression, but isn't: error parsing regexp: {e}"))


def _schemas(value) -> list[dict]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _nested(s: dict, level: str, path: str, out: list[Cause], skip_any_of: bool = False) -> None:
    """A schema under a logic junctor: value validation only."""
    _value_validation(s, level, path, out, skip_any_of=skip_any_of)
    if isinstance(s.get("items"), dict):
        _nested(s["items"], level, f"{path}.items", out)
    for name, sub in (s.get("properties") or {}).items():
        if isinstance(sub, dict):
            _nested(sub, FIELD, f"{path}.properties[{name}]", out)
    if s.get("additionalProperties") is not None:
        out.append(field.forbidden(f"{path}.additionalProperties", "must be undefined to be structural"))
    for key, why in _NESTED_FORBIDDEN:
        if _set(s.get(key)) or (key == "default" and "default" in s):
            out.append(field.forbidden(f"{path}.{key}", why))
    if "metadata" in (s.get("properties") or {}):
        out.append(field.forbidden(f"{path}.properties[metadata]", "must not be specified in a nested context"))


def _completeness(v: dict, v_path: str, s, s_path: str, out: list[Cause]) -> None:
    """Every field named under a junctor of `v` is specified in the structural schema `s`."""
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(_schemas(v.get(junctor))):
            _nested_completeness(sub, f"{v_path}.{junctor}[{i}]", s, s_path, out)
    if isinstance(v.get("not"), dict):
        _nested_completeness(v["not"], f"{v_path}.not", s, s_path, out)
    if not isinstance(s, dict):
        return
    if isinstance(s.get("items"), dict):
        _completeness(s["items"], f"{s_path}.items", s["items"], f"{s_path}.items", out)
    for name, sub in (s.get("properties") or {}).items():
        if isinstance(sub, dict):
            _completeness(sub, f"{s_path}.properties[{name}]", sub, f"{s_path}.properties[{name}]", out)
    if isinstance(s.get("additionalProperties"), dict):
        extra = s["additionalProperties"]
        _completeness(extra, f"{s_path}.additionalProperties", extra, f"{s_path}.additionalProperties", out)


def _nested_completeness(v: dict, v_path: str, s, s_path: str, out: list[Cause]) -> None:
    if not isinstance(s, dict):
        out.append(field.required(s_path, f"because it is defined in {v_path}"))
        return
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(_schemas(v.get(junctor))):
            _nested_completeness(sub, f"{v_path}.{junctor}[{i}]", s, s_path, out)
    if isinstance(v.get("not"), dict):
        _nested_completeness(v["not"], f"{v_path}.not", s, s_path, out)
    if isinstance(v.get("items"), dict):
        _nested_completeness(v["items"], f"{v_path}.items", s.get("items"), f"{s_path}.items", out)
    props = s.get("properties") or {}
    for name, sub in (v.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        if name not in props:
            out.append(field.required(f"{s_path}.properties[{name}]",
                                      f"because it is defined in {v_path}.properties[{name}]"))
        else:
            _nested_completeness(sub, f"{v_path}.properties[{name}]", props[name], f"{s_path}.properties[{name}]", out)
