"""The catalogue of served resources, read from catalogue.yaml.

Everything that depends on "which resources exist" (routing, discovery, OpenAPI
paths, printing, the namespace controller's view of the API) is derived from
this one list, so adding a resource is one entry here plus a strategy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")


@dataclass(frozen=True, slots=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None     # when the subresource takes another group's kind
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    group: str                   # "" for the core group
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    schema: str                  # $defs key in kubernetes-validate
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    storage: str = ""            # key segment in the store; defaults to plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def storage_name(self) -> str:
        return self.storage or self.plural

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def stored(self) -> bool:
        """Virtual resources (reviews, bindings) are created but never stored."""
        return "get" in self.verbs

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


@dataclass(frozen=True, slots=True)
class GroupVersion:
    group: str
    version: str
    resources: tuple[Resource, ...] = field(default_factory=tuple)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class Catalogue:
    group_versions: tuple[GroupVersion, ...]

    def resources(self) -> list[Resource]:
        return [r for gv in self.group_versions for r in gv.resources]

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return _index(self).get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> Resource | None:
        for r in self.resources():
            if (r.group, r.version, r.kind) == (group, version, kind):
                return r
        return None

    def group_version(self, group: str, version: str) -> GroupVersion | None:
        for gv in self.group_versions:
            if (gv.group, gv.version) == (group, version):
                return gv
        return None


@cache
def _index(cat: Catalogue) -> dict[tuple[str, str, str], Resource]:
    return {(r.group, r.version, r.plural): r for r in cat.resources()}


def _parse(doc: dict) -> Catalogue:
    gvs = []
    for g in doc["groups"]:
        resources = []
        for r in g["resources"]:
            subs = tuple(
                Subresource(
                    name=name,
                    kind=s["kind"],
                    verbs=tuple(s["verbs"]),
                    group=s.get("group"),
                    version=s.get("version"),
                )
                for name, s in (r.get("subresources") or {}).items()
            )
            resources.append(
                Resource(
                    group=g["group"],
                    version=g["version"],
                    plural=r["plural"],
                    singular=r["singular"],
                    kind=r["kind"],
                    namespaced=r["namespaced"],
                    verbs=tuple(r["verbs"]),
                    schema=r["schema"],
                    short_names=tuple(r.get("shortNames") or ()),
                    categories=tuple(r.get("categories") or ()),
                    subresources=subs,
                    storage=r.get("storage", ""),
                )
            )
        gvs.append(GroupVersion(group=g["group"], version=g["version"], resources=tuple(resources)))
    return Catalogue(group_versions=tuple(gvs))


@cache
def load() -> Catalogue:
    """The served catalogue (parsed once per process)."""
    with CATALOGUE_FILE.open() as f:
        return _parse(yaml.safe_load(f))
