"""Field errors worded like upstream's `k8s.io/apimachinery/pkg/util/validation/field`.

Each helper returns one Cause whose reason is the upstream CauseType and whose
message is what `field.Error.ErrorBody()` prints, so kubectl shows a 422 the
way a real cluster does: `spec.containers[0].name: Required value`.
"""
from __future__ import annotations

import json

from apiserver.machinery.errors import Cause


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


def show(value) -> str:
    """A bad value as upstream renders it: strings quoted, numbers plain, the rest as JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _with_detail(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head


def required(path: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", _with_detail("Required value", detail), path)


def invalid(path: str, value, detail: str = "") -> Cause:
    return Cause("FieldValueInvalid", _with_detail(f"Invalid value: {show(value)}", detail), path)


def type_invalid(path: str, value, detail: str) -> Cause:
    return Cause("FieldValueTypeInvalid", _with_detail(f"Invalid value: {show(value)}", detail), path)


def not_supported(path: str, value, supported) -> Cause:
    quoted = ", ".join(show(s) for s in supported)
    detail = f"supported values: {quoted}" if supported else ""
    return Cause("FieldValueNotSupported", _with_detail(f"Unsupported value: {show(value)}", detail), path)


def duplicate(path: str, value) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {show(value)}", path)


def forbidden(path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", _with_detail("Forbidden", detail), path)


def too_long(path: str, max_length: int) -> Cause:
    unit = "byte" if max_length == 1 else "bytes"
    return Cause("FieldValueTooLong", f"Too long: may not be more than {max_length} {unit}", path)


def too_many(path: str, actual: int, max_items: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {actual}: must have at most {max_items} items", path)


def immutable(path: str, value) -> Cause:
    """ValidateImmutableField's error."""
    return invalid(path, value, "field is immutable")


def each_invalid(path: str, value, messages: list[str]) -> list[Cause]:
    return [invalid(path, value, m) for m in messages]


def not_found(path: str, value) -> Cause:
    return Cause("FieldValueNotFound", f"Not found: {show(value)}", path)


def supported(path: str, value, allowed) -> list[Cause]:
    """No cause for an unset value or one of `allowed`; else NotSupported."""
    return [] if value is None or value in allowed else [not_supported(path, value, allowed)]


def non_negative(path: str, value) -> list[Cause]:
    """An integer below zero is invalid (unset or other types: the schema's business)."""
    if isinstance(value, int) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def objects(items, path: str):
    """(path[i], item) for each item of a list that is an object (the schema
    reports the others)."""
    for i, item in enumerate(items or []):
        if isinstance(item, dict):
            yield index(path, i), item


def unique_name(path: str, name: str, seen: set[str], rule) -> list[Cause]:
    """A list item's name: valid by `rule`, and not one an earlier item took."""
    causes = each_invalid(path, name, rule(name))
    if name in seen:
        causes.append(duplicate(path, name))
    seen.add(name)
    return causes
