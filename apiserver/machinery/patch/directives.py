"""The `$`-keys of strategic merge patches, and stripping them from taken-as-is values."""
from __future__ import annotations

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder/"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"


def is_directive(key: str) -> bool:
    return key in (PATCH, RETAIN_KEYS) or key.startswith((SET_ELEMENT_ORDER, DELETE_FROM_PRIMITIVE_LIST))


def clean(value):
    """A patch value taken as is: drop nulls and directives it may still carry."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None and not is_directive(k)}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value
