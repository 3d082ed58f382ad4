"""What a pod's spec means for its containers, in Kubernetes' own terms (pure):
the command line a container runs and the pod's QoS class.
The runtime (nodeagent.runtime.specgen) turns these into Podman specs.
"""

from __future__ import annotations

from kubeclient import quantity

from .env import expand


def argv(container: dict, image_config: dict, env: dict[str, str]) -> list[str]:
    """command replaces the image ENTRYPOINT, args replaces its CMD; setting
    command alone drops the image CMD (upstream's rules), with $(VAR) expanded."""
    command = container.get("command")
    args = container.get("args")
    entry = image_config.get("Entrypoint") or []
    cmd = image_config.get("Cmd") or []
    if command:
        out = [expand(a, env) for a in command] + [expand(a, env) for a in (args or [])]
    elif args:
        out = list(entry) + [expand(a, env) for a in args]
    else:
        out = list(entry) + list(cmd)
    return out


def qos_class(pod: dict) -> str:
    """Guaranteed when every container has equal cpu and memory requests and limits;
    BestEffort when none has any; Burstable otherwise."""
    containers = (pod.get("spec") or {}).get("containers") or []
    containers = containers + ((pod.get("spec") or {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        lim, req = res.get("limits") or {}, res.get("requests") or {}
        if lim or req:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or quantity.parse_quantity(req.get(r, lim[r])) != quantity.parse_quantity(lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
