"""`pocketkube proxy --kubeconfig K`: the Service proxy of this host (kube-proxy's flags)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import socket

from kubeclient import ApiClient
from kubeclient.metrics import serve_metrics
from kubeclient.process import configure_logging, run_together, run_until_signalled

from . import host
from .proxier import Proxier, cleanup
from .rules import Config
from .servicelb import run_service_lb

log = logging.getLogger(__name__)


def default_table(node_name: str) -> str:
    return f"pocketkube-proxy-{node_name}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pocketkube proxy", description="program Services into nftables on this host")
    p.add_argument("--kubeconfig", help="credentials of the proxy")
    p.add_argument("--hostname-override", "--node-name", dest="node_name", default=socket.gethostname().lower(),
                   help="this node's name (endpoints on it are 'local')")
    p.add_argument("--cleanup", action="store_true", help="remove the proxy's table and route, then exit")
    p.add_argument("--table", help="nft table (ip family) of this proxy (default pocketkube-proxy-<node>)")
    p.add_argument("--service-cluster-ip-range", default="10.96.0.0/12", help="kept local by a route")
    p.add_argument("--cluster-cidr", default="10.88.0.0/16", help="pods' range: traffic from elsewhere is masqueraded")
    p.add_argument("--bridge", default="podman0", help="pod bridge whose ports get hairpin mode")
    p.add_argument("--node-ip", default=None, help="this node's address (LoadBalancer ingress)")
    p.add_argument("--localhost-nodeports", action=argparse.BooleanOptionalAction, default=True,
                   help="serve NodePorts on 127.0.0.1 too (upstream's --iptables-localhost-nodeports); "
                        "sets route_localnet on the pod bridge")
    p.add_argument("--no-service-lb", action="store_true", help="do not serve LoadBalancer Services (ServiceLB)")
    p.add_argument("--min-sync-period", type=float, default=0.2, help="seconds between two syncs at least")
    p.add_argument("--sync-period", type=float, default=30.0, help="seconds between two syncs at most")
    p.add_argument("--metrics-bind-address", default="",
                   help="host:port serving GET /metrics over plain HTTP (upstream's default is 127.0.0.1:10249); "
                        "empty (the default): not served")
    p.add_argument("-v", "--v", type=int, default=0)
    return p


def config_from(ns: argparse.Namespace) -> Config:
    return Config(table=ns.table or default_table(ns.node_name), service_cidr=ns.service_cluster_ip_range,
                  cluster_cidr=ns.cluster_cidr, localhost_nodeports=ns.localhost_nodeports)


async def run_proxy(kubeconfig: str, node_name: str, cfg: Config, *, node_ip: str | None = None,
                    service_lb: bool = True, bridge: str = "podman0", min_sync_period: float = 0.2,
                    sync_period: float = 30.0) -> None:
    """Run until cancelled (the async entry `pocketkube up` uses)."""
    client = ApiClient.from_kubeconfig(kubeconfig, user_agent=f"pocketkube-proxy/{node_name}")
    proxier = Proxier(client, node_name, cfg, bridge=bridge, min_sync_period=min_sync_period,
                      sync_period=sync_period)
    loops = [proxier.run()]
    if service_lb:
        loops.append(run_service_lb(client, proxier.services, node_ip or host.node_ip()))
    log.info("proxy for node %s: table ip %s, service range %s", node_name, cfg.table, cfg.service_cidr)
    try:
        await run_together(*loops)
    finally:
        await client.close()


def run(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    configure_logging(debug=ns.v >= 4)
    cfg = config_from(ns)
    if ns.cleanup:
        asyncio.run(cleanup(cfg))
        print(f"removed table ip {cfg.table} and the route for {cfg.service_cidr}")
        return 0
    if not ns.kubeconfig:
        parser().error("--kubeconfig is required")
    if not host.is_root():
        print("pocketkube proxy: needs root (nftables, routes, sysctls)", flush=True)
        return 1
    asyncio.run(run_until_signalled(_with_metrics(ns.metrics_bind_address, run_proxy(
        ns.kubeconfig, ns.node_name, cfg, node_ip=ns.node_ip, service_lb=not ns.no_service_lb, bridge=ns.bridge,
        min_sync_period=ns.min_sync_period, sync_period=ns.sync_period))))
    return 0


async def _with_metrics(address: str, coro) -> None:
    if address:
        server = await serve_metrics(address)
        log.info("serving metrics on http://%s:%d/metrics", *server.sockets[0].getsockname()[:2])
    await coro
