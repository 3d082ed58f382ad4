"""Recording writes: what the registry's single write path calls for every object.

Which manager a write belongs to (the `fieldManager` option, else the client's
User-Agent product name, as upstream), which fields a write may not own (status
on the main resource, everything but status on /status: upstream's reset
fields), and which writes are not recorded here (apply records itself; deletion
marking and pod binding are server bookkeeping).
"""
from __future__ import annotations

from openapi.catalogue import Resource

from apiserver.machinery import schemas

from . import entries
from .fieldpaths import Path

# Keys the HTTP layer adds to the write options (they are not sent by clients).
USER_AGENT = "_userAgent"
APPLIED = "_apply"  # the write is a server-side apply, recorded by apply() already

_NOT_RECORDED = ("delete", "binding")


def manager_name(options: dict) -> str:
    """The field manager of a non-apply write: fieldManager, else the User-Agent's first segment."""
    given = options.get("fieldManager")
    if given:
        return given
    agent = options.get(USER_AGENT)
    if agent is None:  # the server's own writes (bootstrap objects...): upstream's loopback client name
        return "kube-apiserver"
    return agent.split("/")[0][:128] or "unknown"


def ignored_paths(resource: Resource, subresource: str) -> tuple[Path, ...]:
    """Fields a write through this endpoint never owns (the strategy resets them)."""
    if subresource == "status":
        return (("f:spec",),)
    if resource.subresource("status") is not None:
        return (("f:status",),)
    return ()


def record_write(resource: Resource, new: dict, old: dict | None, *, operation: str, options: dict,
                 subresource: str, now: str) -> None:
    """Update new.metadata.managedFields for a create (old None) or update of `resource`."""
    if options.get(APPLIED) or subresource in _NOT_RECORDED:
        return
    entries.update_managed_fields(
        old, new, manager_name(options), entries.UPDATE, api_version=resource.api_version, now=now,
        subresource=subresource, schema=schemas.definitions().get(resource.schema),
        ignored=ignored_paths(resource, subresource))
