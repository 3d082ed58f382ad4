"""DefaultTolerationSeconds: pods tolerate a not-ready or unreachable node for
300 s before eviction, unless they say otherwise. As upstream, the two delays
are the API server's --default-not-ready-toleration-seconds and
--default-unreachable-toleration-seconds (tests shorten them)."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from .plugin import Plugin, is_pod

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300
# Set once per process from the server's flags (server.build_admission).
_seconds = {NOT_READY: DEFAULT_SECONDS, UNREACHABLE: DEFAULT_SECONDS}


def configure_default_seconds(not_ready: int, unreachable: int) -> None:
    _seconds[NOT_READY], _seconds[UNREACHABLE] = int(not_ready), int(unreachable)


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
        for key in (NOT_READY, UNREACHABLE):
            if not _tolerates(tolerations, key):
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                    "tolerationSeconds": _seconds[key]})
        spec["tolerations"] = tolerations
