"""Taints and tolerations: which taints a pod tolerates (scheduler, node lifecycle)."""
from __future__ import annotations

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


def tolerates(toleration: dict, taint: dict) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    op = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if op == "Exists":
        return True  # an empty key with Exists tolerates every taint
    return bool(key) and (toleration.get("value") or "") == (taint.get("value") or "")


def tolerating(tolerations: list[dict] | None, taint: dict) -> dict | None:
    """The first toleration that tolerates the taint, or None."""
    for t in tolerations or []:
        if tolerates(t, taint):
            return t
    return None


def taint_string(taint: dict) -> str:
    """How upstream prints a taint in scheduling messages: {key: value}."""
    return "{%s: %s}" % (taint.get("key", ""), taint.get("value", ""))


def node_condition(node: dict, ctype: str) -> dict | None:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def effective_taints(node: dict) -> list[dict]:
    """The node's taints, plus the ones its conditions imply if the lifecycle
    controller has not added them yet (a node that is not Ready is not a place
    to schedule to, whoever is late)."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    ready = node_condition(node, "Ready")
    status = (ready or {}).get("status")
    if status != "True":
        key = UNREACHABLE if status == "Unknown" else NOT_READY
        if not any(t.get("key") in (NOT_READY, UNREACHABLE) and t.get("effect") == "NoSchedule" for t in taints):
            taints.append({"key": key, "effect": "NoSchedule"})
    return taints
