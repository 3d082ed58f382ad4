"""DaemonSet RollingUpdate with maxSurge > 0: the new pod starts beside the old one.

Per node: with no up-to-date pod, one is created (the old pod keeps serving)
while fewer than maxSurge nodes are mid-surge; once the new pod is available
the old one is deleted. An old pod that is not available anyway is replaced at
once, outside the budget (waiting would protect nothing), as upstream does.
Nodes without any pod are the caller's business (it creates one there)."""
from __future__ import annotations

from typing import Callable


def surge_plan(eligible: list[str], live_by_node: dict[str, list[dict]], is_current: Callable[[dict], bool],
               is_available: Callable[[dict], bool], max_surge: int) -> tuple[list[str], list[dict]]:
    """(nodes to create an up-to-date pod on, pods to delete); `live_by_node` oldest first."""
    create, delete, waiting, surging = [], [], [], 0
    for node in eligible:
        live = live_by_node.get(node) or []
        if not live:
            continue
        new = [p for p in live if is_current(p)]
        old = [p for p in live if not is_current(p)]
        delete += new[1:]  # a duplicate of the new pod: never two surges on one node
        if new:
            if is_available(new[0]):
                delete += old
            elif old:
                surging += 1
                delete += old[1:]
            continue
        delete += old[1:]
        if is_available(old[0]):
            waiting.append(node)
        else:
            create.append(node)
    create += waiting[:max(max_surge - surging, 0)]
    return create, delete
