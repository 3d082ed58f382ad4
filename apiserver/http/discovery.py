"""Discovery documents, all derived from the catalogue and built once.

/api and /apis answer either the legacy forms (APIVersions, APIGroupList) or,
when the Accept header asks for it, aggregated discovery
(apidiscovery.k8s.io v2 or v2beta1 APIGroupDiscoveryList) with the matching
Content-Type: clients pick their parser by that header.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

import orjson

from openapi.catalogue import Catalogue, GroupVersion, Resource

from apiserver.machinery.schemas import KUBERNETES_VERSION

VERSION_INFO = {
    "major": "1",
    "minor": KUBERNETES_VERSION.split(".")[1],
    "gitVersion": f"v{KUBERNETES_VERSION}-pocketkube",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-23T00:00:00Z",
    "goVersion": "go1.24.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

AGGREGATED = "apidiscovery.k8s.io"


def _hash(r: Resource) -> str:
    digest = hashlib.sha256(f"{r.group}/{r.version}/{r.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def resource_list(gv: GroupVersion) -> dict:
    """APIResourceList for /api/v1 or /apis/<g>/<v>."""
    out = []
    for r in gv.resources:
        entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                 "kind": r.kind, "verbs": list(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        if r.stored:
            entry["storageVersionHash"] = _hash(r)
        out.append(entry)
        for s in r.subresources:
            sub = {"name": f"{r.plural}/{s.name}", "singularName": "", "namespaced": r.namespaced,
                   "kind": s.kind, "verbs": list(s.verbs)}
            if s.group is not None:
                sub["group"] = s.group
            if s.version is not None:
                sub["version"] = s.version
            out.append(sub)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv.api_version, "resources": out}


def _groups(cat: Catalogue) -> dict[str, list[GroupVersion]]:
    groups: dict[str, list[GroupVersion]] = {}
    for gv in cat.group_versions:
        groups.setdefault(gv.group, []).append(gv)
    return groups


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def api_group(group: str, gvs: list[GroupVersion]) -> dict:
    versions = [{"groupVersion": gv.api_version, "version": gv.version} for gv in gvs]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0]}


def api_group_list(cat: Catalogue) -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [api_group(g, gvs) for g, gvs in _groups(cat).items() if g]}


def _aggregated_resource(r: Resource) -> dict:
    entry = {"resource": r.plural,
             "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
             "scope": "Namespaced" if r.namespaced else "Cluster",
             "singularResource": r.singular, "verbs": list(r.verbs)}
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [{
            "subresource": s.name,
            "responseKind": {"group": s.group if s.group is not None else r.group,
                             "version": s.version or r.version, "kind": s.kind},
            "verbs": list(s.verbs)} for s in r.subresources]
    return entry


def aggregated(cat: Catalogue, legacy: bool, version: str) -> dict:
    """APIGroupDiscoveryList: the core group for /api, every other group for /apis."""
    items = []
    for g, gvs in _groups(cat).items():
        if (g == "") != legacy:
            continue
        items.append({"metadata": {"name": g, "creationTimestamp": None},
                      "versions": [{"version": gv.version, "freshness": "Current",
                                    "resources": [_aggregated_resource(r) for r in gv.resources]}
                                   for gv in gvs]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"{AGGREGATED}/{version}",
            "metadata": {}, "items": items}


def wants_aggregated(accept: str | None) -> str | None:
    """The apidiscovery version the Accept header prefers (v2, v2beta1), if any.
    Ranges are taken in order; a plain application/json before them wins."""
    if not accept:
        return None
    for r in accept.split(","):
        pieces = [p.strip() for p in r.split(";")]
        params = dict(p.split("=", 1) for p in pieces[1:] if "=" in p)
        if params.get("g") == AGGREGATED and params.get("as") == "APIGroupDiscoveryList":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
            continue
        if pieces[0] in ("application/json", "*/*", "application/*") and "as" not in params:
            return None
    return None


def aggregated_content_type(version: str) -> str:
    return f"application/json;g={AGGREGATED};v={version};as=APIGroupDiscoveryList"


class DiscoveryDocuments:
    """Every discovery body, encoded once."""

    def __init__(self, cat: Catalogue):
        self.version = orjson.dumps(VERSION_INFO)
        self.api = orjson.dumps(api_versions())
        self.apis = orjson.dumps(api_group_list(cat))
        self.groups = {g: orjson.dumps(api_group(g, gvs)) for g, gvs in _groups(cat).items() if g}
        self.resource_lists = {(gv.group, gv.version): orjson.dumps(resource_list(gv)) for gv in cat.group_versions}
        self._cat = cat

    @lru_cache(maxsize=8)
    def aggregated(self, legacy: bool, version: str) -> bytes:
        return orjson.dumps(aggregated(self._cat, legacy, version))
