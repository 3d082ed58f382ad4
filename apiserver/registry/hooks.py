"""The one place the registry reaches the per-kind logic and machinery that
other parts of the tree provide (defaulting, validation, printing, selectors,
managed fields). Keeping the calls here keeps store.py about storage rules.

While those modules are landing, each has a minimal stand-in below (marked
STANDIN); they go once the real ones are in.
"""
from __future__ import annotations

import re

from openapi.catalogue import Resource

from apiserver.machinery.errors import Cause, bad_request

try:
    from apiserver.registry import defaulting as _defaulting
except ImportError:  # STANDIN
    _defaulting = None
try:
    from apiserver.registry import validation as _validation
except ImportError:  # STANDIN
    _validation = None
from apiserver.machinery import fields as _fields, labels as _labels
from apiserver.machinery.managedfields import writes as _managedfields
from apiserver.registry.objects import now_rfc3339


def apply_defaults(resource: Resource, obj: dict) -> None:
    if _defaulting is not None:
        _defaulting.apply_defaults(resource, obj)


_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _name_causes(obj: dict) -> list[Cause]:  # STANDIN for the kinds engineer's metadata checks
    name = (obj.get("metadata") or {}).get("name", "")
    if not name:
        return [Cause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")]
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        return [Cause("FieldValueInvalid",
                      f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                      "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
                      "character (e.g. 'example.com', regex used for validation is "
                      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                      "metadata.name")]
    return []


def validate_create(resource: Resource, obj: dict) -> list[Cause]:
    if _validation is not None:
        return _validation.validate_create(resource, obj)
    return _name_causes(obj)


def validate_update(resource: Resource, new: dict, old: dict) -> list[Cause]:
    if _validation is not None:
        return _validation.validate_update(resource, new, old)
    return []


def parse_label_selector(text: str):
    try:
        return _labels.parse_label_selector(text)
    except _labels.SelectorError as e:
        raise bad_request(e.message) from None


def parse_field_selector(text: str):
    try:
        return _fields.parse_field_selector(text)
    except _labels.SelectorError as e:
        raise bad_request(e.message) from None


def field_selector_fields(selector) -> list[str]:
    """The field names a parsed field selector mentions."""
    return [r.field for r in selector.requirements]


def unsupported_field(resource: Resource, field: str, supported) -> str:
    """Upstream words it one way for core/v1 kinds, another for the rest."""
    if resource.group == "":
        return _fields.field_label_not_supported(field)
    return _fields.not_a_known_field_selector(field, supported)


def update_managed_fields(resource: Resource, new: dict, old: dict | None, *,
                          operation: str, options: dict, subresource: str) -> None:
    """Called once for every object about to be written (create, update, patch,
    status, delete-marking): metadata.managedFields records who set what."""
    _managedfields.record_write(resource, new, old, operation=operation, options=options,
                                subresource=subresource, now=now_rfc3339())

