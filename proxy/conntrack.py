"""Which UDP conntrack entries a sync makes stale (pure).

UDP has no connection to end: a client that keeps sending to a ClusterIP keeps
its conntrack entry, and so its old DNAT target, after that endpoint is gone.
As upstream, after a sync we delete (1) entries to a service port whose reply
comes from an endpoint (address and port) that no longer serves it, and (2) entries to a service
port that had no endpoint before (they hold the rejected, un-NATed flow).
"""
from __future__ import annotations

from .model import Snapshot


def _udp_targets(snap: Snapshot) -> dict[tuple[str, int], set[tuple[str, int]]]:
    out: dict[tuple[str, int], set[tuple[str, int]]] = {}
    for sp in snap.ports:
        if sp.protocol != "udp":
            continue
        out.setdefault((sp.cluster_ip, sp.port), set()).update((e.ip, e.port) for e in sp.cluster_endpoints)
        if sp.node_port:
            out.setdefault(("nodeport", sp.node_port), set()).update((e.ip, e.port) for e in sp.external_endpoints)
    return out


def stale_entries(old: Snapshot | None, new: Snapshot) -> list[list[str]]:
    """Arguments for `conntrack -D` (one list per call)."""
    if old is None:
        return []
    before, after = _udp_targets(old), _udp_targets(new)
    calls: list[list[str]] = []
    for (addr, port), eps in sorted(before.items()):
        match = ["-p", "udp", "--orig-port-dst", str(port)]
        if addr != "nodeport":
            match = ["-p", "udp", "--orig-dst", addr, "--orig-port-dst", str(port)]
        for ip, ep_port in sorted(eps - after.get((addr, port), set())):
            calls.append([*match, "--reply-src", ip, "--reply-port-src", str(ep_port)])
    for (addr, port), eps in sorted(after.items()):
        if eps and not before.get((addr, port)) and addr != "nodeport":
            calls.append(["-p", "udp", "--orig-dst", addr, "--orig-port-dst", str(port)])
    return calls
