"""DefaultTolerationSeconds: pods tolerate a not-ready or unreachable node for
300 s before eviction, unless they say otherwise. As upstream, the two delays
are the API server's --default-not-ready-toleration-seconds and
--default-unreachable-toleration-seconds (AdmissionSettings; tests shorten them)."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from .plugin import Plugin, is_pod

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"

def _tolerates(tolerations: list, key: str) -> bool:
    return any(isinstance(t, dict) and t.get("key", "") in (key, "") and t.get("effect", "") in ("NoExecute", "")
               for t in tolerations)


class DefaultTolerationSeconds(Plugin):
    name = "DefaultTolerationSeconds"
    mutating = True

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != "CREATE" or not is_pod(attrs) or not isinstance(attrs.object, dict):
            return
        spec = attrs.object.setdefault("spec", {})
        tolerations = list(spec.get("tolerations") or [])
        seconds = {NOT_READY: self.settings.not_ready_toleration_seconds,
                   UNREACHABLE: self.settings.unreachable_toleration_seconds}
        for key in (NOT_READY, UNREACHABLE):
            if not _tolerates(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": seconds[key]})
        spec["tolerations"] = tolerations
