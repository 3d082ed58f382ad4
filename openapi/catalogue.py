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


class Catalogue:
    """The served group-versions: the built-in ones from catalogue.yaml plus
    extensions that arrive at run time (custom resources, keyed by their CRD's
    name). `generation` moves on every change, so what is derived from the
    catalogue (routes, discovery, OpenAPI) knows when to derive again."""

    def __init__(self, group_versions: tuple[GroupVersion, ...]):
        self._builtin = tuple(group_versions)
        self._extensions: dict[str, tuple[Resource, ...]] = {}
        self.generation = 0
        self._rebuild()

    def _rebuild(self) -> None:
        merged: dict[tuple[str, str], list[Resource]] = {}
        builtin_keys = {(gv.group, gv.version) for gv in self._builtin}
        for key in sorted(self._extensions):
            for r in self._extensions[key]:
                merged.setdefault((r.group, r.version), []).append(r)
        gvs = [GroupVersion(gv.group, gv.version, gv.resources + tuple(merged.pop((gv.group, gv.version), ())))
               if (gv.group, gv.version) in builtin_keys else gv for gv in self._builtin]
        gvs.extend(GroupVersion(g, v, tuple(rs)) for (g, v), rs in merged.items())
        self.group_versions = tuple(gvs)
        self._index = {(r.group, r.version, r.plural): r for gv in gvs for r in gv.resources}
        self.generation += 1

    def set_extension(self, key: str, resources: tuple[Resource, ...]) -> None:
        """Serve `resources` under `key` (replacing what it served before)."""
        self._extensions[key] = tuple(resources)
        self._rebuild()

    def remove_extension(self, key: str) -> None:
        if self._extensions.pop(key, None) is not None:
            self._rebuild()

    def is_builtin(self, gv: GroupVersion) -> bool:
        """Served from catalogue.yaml alone (nothing added at run time)."""
        return gv in self._builtin

    def resources(self) -> list[Resource]:
        return [r for gv in self.group_versions for r in gv.resources]

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return self._index.get((group, version, plural))

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
    """The served catalogue (parsed once per process; extensions are added to it live)."""
    with CATALOGUE_FILE.open() as f:
        return _parse(yaml.safe_load(f))
