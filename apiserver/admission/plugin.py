"""What an admission plugin is, and the helpers plugins share.

A plugin may mutate (`admit`, run in the mutating phase) and/or validate
(`validate`, run in the validating phase); both receive the registry's
Attributes and refuse by raising a StatusError.
"""
from __future__ import annotations

from dataclasses import dataclass

from apiserver.machinery.errors import Cause, StatusError
from apiserver.registry.attributes import Attributes
from apiserver.registry.options import ListOptions


@dataclass(frozen=True, slots=True)
class AdmissionSettings:
    """What the API server's flags tell the plugins (upstream's defaults)."""
    # DefaultTolerationSeconds: --default-not-ready-toleration-seconds,
    # --default-unreachable-toleration-seconds
    not_ready_toleration_seconds: int = 300
    unreachable_toleration_seconds: int = 300


class Plugin:
    name = ""
    mutating = False
    validating = False

    def __init__(self, registries, settings: AdmissionSettings = AdmissionSettings()):
        self.registries = registries
        self.settings = settings

    async def admit(self, attrs: Attributes) -> None:  # mutating phase
        return None

    async def validate(self, attrs: Attributes) -> None:  # validating phase
        return None

    # --- reading what is stored ------------------------------------------------
    async def get(self, group: str, plural: str, namespace: str, name: str) -> dict | None:
        gs = self.registries.for_plural(group, plural) if self.registries is not None else None
        if gs is None:
            return None
        so = await gs.get_or_none(namespace, name)
        return so.obj if so is not None else None

    async def list(self, group: str, plural: str, namespace: str) -> list[dict]:
        gs = self.registries.for_plural(group, plural) if self.registries is not None else None
        if gs is None:
            return []
        page = await gs.list(namespace, ListOptions())
        return [so.obj for so in page.items]


def qualified_resource(attrs: Attributes) -> str:
    r = attrs.resource
    return f"{r.plural}.{r.group}" if r.group else r.plural


def object_name(attrs: Attributes) -> str:
    if attrs.name:
        return attrs.name
    obj = attrs.object or attrs.old_object or {}
    return (obj.get("metadata") or {}).get("name", "")


def forbidden(attrs: Attributes, detail: str, causes: list[Cause] | None = None) -> StatusError:
    """admission.NewForbidden: `pods "x" is forbidden: <detail>` (no name: `pods is forbidden: ...`)."""
    resource = qualified_resource(attrs)
    name = object_name(attrs)
    message = f'{resource} "{name}" is forbidden: {detail}' if name else f"{resource} is forbidden: {detail}"
    return StatusError(403, "Forbidden", message, name=name, group=attrs.resource.group,
                       kind=attrs.resource.plural, causes=causes)


def is_pod(attrs: Attributes) -> bool:
    return attrs.resource.group == "" and attrs.resource.plural == "pods" and attrs.subresource == ""
