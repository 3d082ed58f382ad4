"""Server-side tables (meta.k8s.io/v1 Table) for `kubectl get`.

`columns(resource)` gives the column definitions and `row(resource, obj)` the
cells, in the same order, wide (priority 1) columns included: kubectl hides
those unless `-o wide`. Kinds without a printer get upstream's default
table: Name and Created At.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from openapi.catalogue import Resource

from . import kinds, pods
from .humanize import age, doc, now_utc

_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _name_col() -> dict:
    return kinds.col("Name", doc(_META, "name"), format_="name")


def _age_col() -> dict:
    return kinds.col("Age", doc(_META, "creationTimestamp"))


def _kind_key(resource: Resource) -> tuple[str, str]:
    # events.k8s.io Events print like core Events (upstream converts them first).
    if resource.group == "events.k8s.io" and resource.kind == "Event":
        return ("", "Event")
    return (resource.group, resource.kind)


@cache
def _table() -> dict:
    return kinds.table()


@cache
def _columns_for(key: tuple[str, str]) -> tuple[dict, ...]:
    if key == ("", "Pod"):
        return tuple(pods.columns(_name_col(), _age_col()))
    entry = _table().get(key)
    if entry is None:
        return (_name_col(), kinds.col("Created At", doc(_META, "creationTimestamp"), "date"))
    extra = [_age_col() if c is kinds.AGE else c for c in entry[0]]
    if key == ("", "Event"):
        return tuple(extra)  # events put Name last, as a wide column
    return tuple([_name_col(), *extra])


def columns(resource: Resource) -> list[dict]:
    """metav1.TableColumnDefinition dicts for the resource (copies: callers may mutate)."""
    return [dict(c) for c in _columns_for(_kind_key(resource))]


def row(resource: Resource, obj: dict, now: datetime | None = None) -> list:
    """The cells for one object, matching `columns(resource)`."""
    now = now or now_utc()
    key = _kind_key(resource)
    if key == ("", "Pod"):
        return pods.row(obj, now)
    meta = obj.get("metadata") or {}
    entry = _table().get(key)
    if entry is None:
        return [meta.get("name", ""), meta.get("creationTimestamp") or "<unknown>"]
    cells = entry[1](obj, now)
    if key == ("", "Event"):
        return cells
    return [meta.get("name", ""), *cells]


__all__ = ["columns", "row", "age"]
