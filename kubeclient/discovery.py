"""API discovery: which resources the server serves, read from /api and /apis.

Controllers that must handle every resource (namespace deletion, garbage
collection) ask the server rather than keep a hand-written list, so new
resources (and custom ones) are covered too.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .client import ApiClient, ApiError
from .resources import Resource


@dataclass(frozen=True)
class ApiResource:
    resource: Resource
    kind: str
    verbs: frozenset[str]


async def _group_version(client: ApiClient, group: str, version: str) -> list[ApiResource]:
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    doc = await client.get_path(path)
    found = []
    for r in doc.get("resources") or []:
        if "/" in r.get("name", ""):
            continue  # subresources are reached through their parent
        found.append(ApiResource(Resource(group, version, r["name"], bool(r.get("namespaced"))),
                                 r.get("kind", ""), frozenset(r.get("verbs") or [])))
    return found


async def discover(client: ApiClient, all_versions: bool = False) -> list[ApiResource]:
    """Every served top-level resource, in each group's preferred version (or all versions)."""
    core = await client.get_path("/api")
    gvs: list[tuple[str, str]] = [("", v) for v in core.get("versions") or ["v1"]]
    groups = await client.get_path("/apis")
    for g in groups.get("groups") or []:
        if all_versions:
            gvs.extend((g["name"], v["version"]) for v in g.get("versions") or [])
        else:
            pv = (g.get("preferredVersion") or (g.get("versions") or [{}])[0]).get("version")
            if pv:
                gvs.append((g["name"], pv))
    results = await asyncio.gather(*(_group_version(client, g, v) for g, v in gvs), return_exceptions=True)
    out: list[ApiResource] = []
    for r in results:
        if isinstance(r, ApiError):
            continue  # a group that fails discovery is skipped, not fatal
        if isinstance(r, BaseException):
            raise r
        out.extend(r)
    return out


def kind_map(resources: list[ApiResource]) -> dict[tuple[str, str], Resource]:
    """(apiVersion, kind) -> Resource, to turn an ownerReference into a URL."""
    return {(ar.resource.api_version, ar.kind): ar.resource for ar in resources}
