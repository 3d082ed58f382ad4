"""nftables text for a Snapshot (pure: state in, `nft -f` text out).

The layout is upstream kube-proxy's nftables mode, in one `ip` table of our own:

  services chain         ip daddr . l4proto . dport vmap @service-ips, then
                         local addresses: l4proto . dport vmap @service-nodeports
  service-<h>-<key>      cluster path: mark for masquerade unless from a pod, then
                         a random endpoint (numgen cascade) DNATed in place
  external-<h>-<key>     NodePort / LoadBalancer path: masquerade (policy Cluster)
                         or local endpoints only (policy Local)
  endpoint-<h>-<key>__ip/port
                         only for sessionAffinity ClientIP: remember the client,
                         DNAT (the service chain looks the client up first)
  hairpin-endpoints      endpoint . endpoint pairs: after DNAT, a pod that reached
                         itself through a service is masqueraded (nat-postrouting)
  no-endpoint-services / no-endpoint-nodeports
                         verdict maps the filter hooks consult: reject (or drop)
                         new connections to services with no usable endpoint

Why no chain per endpoint (upstream has one): nft 1.0.6 lists every chain of the
ruleset into its cache before each `nft -f`, even for one map element, and the
kernel walks the jump graph on commit; with a chain per endpoint, 10,000 services
are 30,000 chains and one change cost ~0.1-0.2 s of CPU. A chain per service port
is a third of that; the endpoint chains stay only where affinity needs them.

`render` gives the desired state (chain -> rules, map -> elements, affinity sets);
`transaction` turns (previous, desired) into one atomic `nft -f` script that only
touches what changed (or, with no previous state, rebuilds the table).
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from .model import Endpoint, ServicePort, Snapshot

MASQ_MARK = "0x4000"
SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_EP_SERVICES = "no-endpoint-services"
NO_EP_NODEPORTS = "no-endpoint-nodeports"
HAIRPIN = "hairpin-endpoints"


@dataclass(frozen=True)
class Config:
    table: str = "pocketkube-proxy"
    service_cidr: str = "10.96.0.0/12"
    cluster_cidr: str = "10.88.0.0/16"   # pods' addresses: traffic from elsewhere is masqueraded
    # NodePorts on 127.0.0.0/8 for this host's own clients (upstream's iptables-mode
    # --iptables-localhost-nodeports): needs route_localnet on the pod bridge (host.py)
    localhost_nodeports: bool = True


@dataclass
class Desired:
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)   # affinity set name -> its declaration body


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest())[:8].decode()


def service_chain(sp: ServicePort) -> str:
    return f"service-{_hash(sp.key)}-{sp.key}"


def external_chain(sp: ServicePort) -> str:
    return f"external-{_hash(sp.key)}-{sp.key}"


def endpoint_chain(sp: ServicePort, ep: Endpoint) -> str:
    return f"endpoint-{_hash(sp.key + ep.ip)}-{sp.key}__{ep.ip}/{ep.port}"


def affinity_set(sp: ServicePort, ep: Endpoint) -> str:
    # The timeout is in the hash: a changed timeout is a new set (a set in use cannot be redefined).
    return f"affinity-{_hash(f'{sp.key}{ep.ip}:{ep.port}/{sp.affinity_timeout}')}"


def _to(sp: ServicePort, ep: Endpoint) -> str:
    """The verdict sending to one endpoint: its chain (affinity), else the DNAT itself."""
    if sp.affinity_timeout:
        return f"goto {endpoint_chain(sp, ep)}"
    return f"meta l4proto {sp.protocol} dnat to {ep.ip}:{ep.port}"


def _lb_rules(sp: ServicePort, eps: tuple[Endpoint, ...]) -> list[str]:
    rules = []
    if sp.affinity_timeout:
        for ep in eps:
            rules.append(f"ip saddr @{affinity_set(sp, ep)} goto {endpoint_chain(sp, ep)}")
    # Endpoint i is taken with probability 1/(n-i) among those left (uniform overall), as
    # iptables' statistic cascade does, rather than upstream's `numgen random mod n vmap {..}`:
    # every such anonymous map is a kernel set, and the kernel's cost of adding one grows with
    # the sets already in the table (a first load of 10,000 services took minutes).
    n = len(eps)
    for i, ep in enumerate(eps[:-1]):
        rules.append(f"numgen random mod {n - i} == 0 {_to(sp, ep)}")
    rules.append(_to(sp, eps[-1]))
    return rules


def render_port(sp: ServicePort, cfg: Config, d: Desired) -> None:
    proto = sp.protocol
    svc = service_chain(sp)
    if sp.cluster_endpoints:
        d.chains[svc] = tuple(
            [f"ip daddr {sp.cluster_ip} {proto} dport {sp.port} ip saddr != {cfg.cluster_cidr} jump mark-for-masquerade"]
            + _lb_rules(sp, sp.cluster_endpoints))
        d.maps[SERVICE_IPS][f"{sp.cluster_ip} . {proto} . {sp.port}"] = f"goto {svc}"
    else:
        d.maps[NO_EP_SERVICES][f"{sp.cluster_ip} . {proto} . {sp.port}"] = "goto reject-chain"
    for ep in set(sp.cluster_endpoints) | set(sp.external_endpoints):
        d.maps[HAIRPIN][f"{ep.ip} . {ep.ip}"] = "jump mark-for-masquerade"
        if sp.affinity_timeout:
            d.sets[affinity_set(sp, ep)] = f"type ipv4_addr; flags dynamic,timeout; timeout {sp.affinity_timeout}s;"
            d.chains[endpoint_chain(sp, ep)] = (f"update @{affinity_set(sp, ep)} {{ ip saddr }}",
                                                f"meta l4proto {proto} dnat to {ep.ip}:{ep.port}")
    if not sp.node_port and not sp.lb_ips:
        return
    ext = external_chain(sp)
    if sp.external_endpoints:
        if sp.external_local:
            # Local policy: the client's address is kept (no masquerade), only this node's endpoints;
            # but this host's own clients (loopback too) are masqueraded and may use any endpoint,
            # as upstream does ("masquerade/short-circuit LOCAL traffic").
            local_first = ("fib saddr type local jump mark-for-masquerade", f"fib saddr type local goto {svc}") \
                if sp.cluster_endpoints else ()
            d.chains[ext] = local_first + tuple(_lb_rules(sp, sp.external_endpoints))
        elif sp.external_endpoints == sp.cluster_endpoints:
            d.chains[ext] = ("jump mark-for-masquerade", f"goto {svc}")
        else:
            d.chains[ext] = tuple(["jump mark-for-masquerade"] + _lb_rules(sp, sp.external_endpoints))
        verdict = f"goto {ext}"
        if sp.node_port:
            d.maps[SERVICE_NODEPORTS][f"{proto} . {sp.node_port}"] = verdict
        for ip in sp.lb_ips:
            d.maps[SERVICE_IPS][f"{ip} . {proto} . {sp.port}"] = verdict
    else:
        # Upstream: reject when the service has no endpoints at all, drop when only local ones are missing.
        verdict = "drop" if sp.external_local and sp.cluster_endpoints else "goto reject-chain"
        if sp.node_port:
            d.maps[NO_EP_NODEPORTS][f"{proto} . {sp.node_port}"] = verdict
        for ip in sp.lb_ips:
            d.maps[NO_EP_SERVICES][f"{ip} . {proto} . {sp.port}"] = verdict


def empty() -> Desired:
    return Desired(maps={SERVICE_IPS: {}, SERVICE_NODEPORTS: {}, NO_EP_SERVICES: {}, NO_EP_NODEPORTS: {},
                         HAIRPIN: {}})


def render(snap: Snapshot, cfg: Config, cache: dict | None = None) -> Desired:
    """cache: ServicePort -> its rendering, kept by the caller between syncs so that
    only the service ports that changed are rendered again (ServicePorts are values)."""
    d = empty()
    fresh = {}
    for sp in snap.ports:
        part = cache.get(sp) if cache is not None else None
        if part is None:
            part = empty()
            render_port(sp, cfg, part)
        fresh[sp] = part
        d.chains.update(part.chains)
        d.sets.update(part.sets)
        for name, items in part.maps.items():
            if items:
                d.maps[name].update(items)
    if cache is not None:
        cache.clear()
        cache.update(fresh)
    return d


def base_table(cfg: Config) -> list[str]:
    """The fixed part: hooks, maps, the masquerade and reject chains."""
    t = f"ip {cfg.table}"
    # Node ports are served on this host's addresses, but not on loopback (no route_localnet)
    # nor on the service range, which the proxy routes locally.
    local = f"fib daddr type local ip daddr != {{ 127.0.0.0/8, {cfg.service_cidr} }}"
    lines = [
        f"add table {t}",
        f"add chain {t} nat-prerouting {{ type nat hook prerouting priority -100; }}",
        f"add chain {t} nat-output {{ type nat hook output priority -100; }}",
        f"add chain {t} nat-postrouting {{ type nat hook postrouting priority 100; }}",
        f"add chain {t} filter-input {{ type filter hook input priority -10; }}",
        f"add chain {t} filter-forward {{ type filter hook forward priority -10; }}",
        f"add chain {t} filter-output {{ type filter hook output priority -110; }}",
        f"add chain {t} services",
        f"add chain {t} masquerading",
        f"add chain {t} mark-for-masquerade",
        f"add chain {t} service-endpoints-check",
        f"add chain {t} reject-chain",
        f"add map {t} {SERVICE_IPS} {{ type ipv4_addr . inet_proto . inet_service : verdict; }}",
        f"add map {t} {SERVICE_NODEPORTS} {{ type inet_proto . inet_service : verdict; }}",
        f"add map {t} {NO_EP_SERVICES} {{ type ipv4_addr . inet_proto . inet_service : verdict; }}",
        f"add map {t} {NO_EP_NODEPORTS} {{ type inet_proto . inet_service : verdict; }}",
        f"add map {t} {HAIRPIN} {{ type ipv4_addr . ipv4_addr : verdict; }}",
        f"add rule {t} nat-prerouting jump services",
        f"add rule {t} nat-output jump services",
        # (DNATed connections only: 127.0.0.1 is the endpoint of `kubernetes` in a test
        # cluster, and a plain loopback connection must not be masqueraded)
        f"add rule {t} nat-postrouting ct status dnat ip saddr . ip daddr vmap @{HAIRPIN}",
        f"add rule {t} nat-postrouting jump masquerading",
        f"add rule {t} filter-input ct state new jump service-endpoints-check",
        f"add rule {t} filter-forward ct state new jump service-endpoints-check",
        f"add rule {t} filter-output ct state new jump service-endpoints-check",
        f"add rule {t} services ip daddr . meta l4proto . th dport vmap @{SERVICE_IPS}",
        f"add rule {t} services {local} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}",
        f"add rule {t} service-endpoints-check ip daddr . meta l4proto . th dport vmap @{NO_EP_SERVICES}",
        f"add rule {t} service-endpoints-check {local} meta l4proto . th dport vmap @{NO_EP_NODEPORTS}",
        f"add rule {t} mark-for-masquerade meta mark set meta mark or {MASQ_MARK}",
        f"add rule {t} masquerading meta mark & {MASQ_MARK} == 0 return",
        f"add rule {t} masquerading meta mark set meta mark xor {MASQ_MARK}",
        f"add rule {t} masquerading masquerade fully-random",
        f"add rule {t} reject-chain reject",
    ]
    if cfg.localhost_nodeports:
        # Only from this host (the output hooks): 127.0.0.1:<nodePort> as upstream's iptables
        # mode serves it. The external chains masquerade it, so replies come back to the bridge
        # address; route_localnet (set on the pod bridge) lets the 127.x source be routed there.
        # Upstream's guard against that sysctl's hole: nothing from elsewhere reaches 127/8.
        lines += [
            f"add rule {t} nat-output ip daddr 127.0.0.0/8 meta l4proto . th dport vmap @{SERVICE_NODEPORTS}",
            f"add rule {t} filter-output ct state new ip daddr 127.0.0.0/8 meta l4proto . th dport "
            f"vmap @{NO_EP_NODEPORTS}",
            f"add rule {t} filter-input ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct state new drop",
        ]
    return lines


def _elements(t: str, name: str, items: dict[str, str], verb: str) -> list[str]:
    if not items:
        return []
    if verb == "delete":
        body = ", ".join(items)
    else:
        body = ", ".join(f"{k} : {v}" for k, v in items.items())
    return [f"{verb} element {t} {name} {{ {body} }}"]


def transaction(prev: Desired | None, want: Desired, cfg: Config) -> str:
    """One `nft -f` script taking the table from `prev` (None: unknown) to `want`."""
    t = f"ip {cfg.table}"
    lines: list[str] = []
    if prev is None:
        # Unknown state: drop the whole table and build it again, in the same transaction.
        lines += [f"add table {t}", f"delete table {t}"] + base_table(cfg)
        prev = Desired(maps={name: {} for name in want.maps})
    for name, decl in want.sets.items():
        if name not in prev.sets:
            lines.append(f"add set {t} {name} {{ {decl} }}")
    changed = [c for c, rules in want.chains.items() if prev.chains.get(c) != rules]
    for c in changed:
        if c not in prev.chains:
            lines.append(f"add chain {t} {c}")
    for c in changed:
        if c in prev.chains:
            lines.append(f"flush chain {t} {c}")
        lines += [f"add rule {t} {c} {r}" for r in want.chains[c]]
    for name, items in want.maps.items():
        old = prev.maps.get(name, {})
        gone = {k: v for k, v in old.items() if items.get(k) != v}
        new = {k: v for k, v in items.items() if old.get(k) != v}
        lines += _elements(t, name, gone, "delete")
        lines += _elements(t, name, new, "add")
    stale = [c for c in prev.chains if c not in want.chains]
    lines += [f"flush chain {t} {c}" for c in stale]
    lines += [f"delete chain {t} {c}" for c in stale]
    lines += [f"delete set {t} {s}" for s in prev.sets if s not in want.sets]
    return "\n".join(lines) + "\n"
