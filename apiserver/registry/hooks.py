"""The one place the registry reaches the per-kind logic and machinery that
other parts of the tree provide (defaulting, validation, selectors, managed
fields). Keeping the calls here keeps store.py about storage rules.
"""
from __future__ import annotations

from openapi.catalogue import Resource

from apiserver.machinery.errors import Cause, bad_request
from apiserver.machinery import fields as _fields, labels as _labels
from apiserver.machinery.managedfields import writes as _managedfields
from apiserver.registry import defaulting as _defaulting, validation as _validation
from apiserver.registry.objects import now_rfc3339


def apply_defaults(resource: Resource, obj: dict) -> None:
    _defaulting.apply_defaults(resource, obj)


def validate_create(resource: Resource, obj: dict) -> list[Cause]:
    return _validation.validate_create(resource, obj)


def validate_update(resource: Resource, new: dict, old: dict) -> list[Cause]:
    return _validation.validate_update(resource, new, old)


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

