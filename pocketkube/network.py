"""`pocketkube up`'s data path: the Service proxy and the cluster DNS, beside the node agent.

Both need root (nftables, routes, port 53). The DNS listens on the node's address
and is published as kube-system/kube-dns at the service range's tenth address
(10.96.0.10 for the default range, as kubeadm does); the node agent writes that
address into ClusterFirst pods' resolv.conf. When `up` stops, the proxy's table
and route go with it.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os

log = logging.getLogger("pocketkube.up")


def add_network_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-proxy", action="store_true",
                   help="do not run the Service proxy (nftables; it runs with the node agent, as root)")
    p.add_argument("--no-dns", action="store_true", help="do not run the cluster DNS")
    p.add_argument("--no-service-lb", action="store_true",
                   help="leave LoadBalancer Services alone (no node address in their status)")
    p.add_argument("--cluster-domain", default="cluster.local", help="the cluster's DNS domain")
    p.add_argument("--dns-port", type=int, default=53, help="port of the cluster DNS on the node's address")
    p.add_argument("--dns-upstream", default=None,
                   help="resolvers for names outside the cluster, comma-separated (default: the host's; "
                        "'none': answer SERVFAIL, as tests do so that no query leaves the machine)")


def network_on(ns: argparse.Namespace) -> bool:
    return not ns.no_nodeagent and not ns.no_proxy and os.geteuid() == 0


def dns_service_ip(service_cidr: str) -> str:
    return str(ipaddress.ip_network(service_cidr)[10])


def cluster_dns(ns: argparse.Namespace, running) -> list[str]:
    """What the node agent puts in ClusterFirst pods' resolv.conf."""
    if not network_on(ns) or ns.no_dns:
        return []
    return [dns_service_ip(str(running.opts.service_cluster_ip_range))]


def start_network(ns: argparse.Namespace, running, node: str, supervise) -> list[asyncio.Task]:
    if ns.no_nodeagent or ns.no_proxy:
        return []
    if os.geteuid() != 0:
        log.warning("not root: no Service proxy or cluster DNS (Services get no data path); --no-proxy silences this")
        return []
    from proxy.main import default_table, run_proxy
    from proxy.proxier import cleanup
    from proxy.rules import Config

    service_cidr = str(running.opts.service_cluster_ip_range)
    cfg = Config(table=default_table(node), service_cidr=service_cidr)
    creds = running.creds

    async def proxy() -> None:
        try:
            await run_proxy(str(creds.kubeconfig_for("system:kube-proxy")), node, cfg,
                            service_lb=not ns.no_service_lb)
        finally:
            await cleanup(cfg)

    tasks = [asyncio.create_task(supervise("proxy", proxy()), name="proxy")]
    if not ns.no_dns:
        from clusterdns.main import run_dns

        kc = creds.kubeconfig_for("system:kube-dns")
        upstreams = None
        if ns.dns_upstream is not None:
            upstreams = [] if ns.dns_upstream == "none" else [u for u in ns.dns_upstream.split(",") if u]
        dns = run_dns(str(kc), node_name=node, port=ns.dns_port, zone=ns.cluster_domain,
                      upstreams=upstreams, publish_ip=dns_service_ip(service_cidr))
        tasks.append(asyncio.create_task(supervise("dns", dns), name="dns"))
    return tasks
