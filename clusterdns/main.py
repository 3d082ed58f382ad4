"""`pocketkube dns --kubeconfig K`: the cluster DNS server (the role CoreDNS plays).

It watches Services, EndpointSlices and Pods, answers the cluster zone from
memory, and forwards other names to the host's resolvers. It listens on the
node's address (not 0.0.0.0: a reply from the bridge address to a DNAT'd query
would be dropped) and, with --publish-service, creates the kube-dns Service and
an EndpointSlice pointing at itself, so pods reach it at the Service's ClusterIP.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import socket

from kubeclient import ApiClient
from kubeclient.process import configure_logging, run_until_signalled
from kubeclient.informer import Informer
from kubeclient.resources import ENDPOINTSLICES, PODS, SERVICES

from .records import Records
from .server import DnsServer, Resolver
from .service import publish

log = logging.getLogger(__name__)

DEFAULT_CLUSTER_DNS = "10.96.0.10"


def host_upstreams(own: str, path: str = "/etc/resolv.conf") -> list[str]:
    """The host's nameservers, without ourselves or loopback (either would loop)."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver" and parts[1] != own \
                        and not parts[1].startswith("127.") and ":" not in parts[1]:
                    out.append(parts[1])
    except OSError:
        pass
    return out


def node_ip() -> str:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))   # nothing is sent: this only picks the default route's source
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


class ClusterRecords:
    """Records rebuilt on the first query after a change of any watched object."""

    def __init__(self, client: ApiClient, zone: str):
        self.zone = zone
        self.informers = [Informer(client, SERVICES), Informer(client, ENDPOINTSLICES), Informer(client, PODS)]
        self.dirty = True
        self.current = Records(zone)
        self.rebuilds = 0
        for inf in self.informers:
            inf.add_handler(self._touch, self._touch, self._touch)

    def _touch(self, *_) -> None:
        self.dirty = True

    def __call__(self) -> Records:
        if self.dirty:
            self.dirty = False
            services, slices, pods = (inf.list() for inf in self.informers)
            self.current = Records(self.zone).build(services, slices, pods)
            self.rebuilds += 1
        return self.current

    async def wait_synced(self) -> None:
        for inf in self.informers:
            await inf.wait_synced()


async def run_dns(kubeconfig: str, *, node_name: str, address: str | None = None, port: int = 53,
                  zone: str = "cluster.local", upstreams: list[str] | None = None,
                  publish_ip: str | None = None, ready: asyncio.Event | None = None) -> None:
    """Run until cancelled. upstreams None: the host's resolvers; []: forward nothing."""
    address = address or node_ip()
    client = ApiClient.from_kubeconfig(kubeconfig, user_agent=f"pocketkube-dns/{node_name}")
    records = ClusterRecords(client, zone)
    tasks = [asyncio.ensure_future(inf.run()) for inf in records.informers]
    server = DnsServer(Resolver(records), address, port,
                       upstreams=host_upstreams(address) if upstreams is None else upstreams)
    try:
        await records.wait_synced()
        port = await server.start()
        if publish_ip:
            await publish(client, cluster_ip=publish_ip, node=node_name, address=address, port=port)
        if ready is not None:
            ready.set()
        await asyncio.gather(*tasks)
    finally:
        server.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pocketkube dns", description="the cluster DNS server")
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--node-name", default=socket.gethostname().lower(), help="names this server's EndpointSlice")
    p.add_argument("--bind-address", default=None, help="address to listen on (default: the node's address)")
    p.add_argument("--port", type=int, default=53, help="port (UDP and TCP; 0: any free port)")
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument("--upstream", default=None,
                   help="comma-separated resolvers for other names (default: the host's; 'none': answer SERVFAIL)")
    p.add_argument("--publish-service", metavar="CLUSTER_IP", nargs="?", const=DEFAULT_CLUSTER_DNS, default=None,
                   help=f"create kube-system/kube-dns with this clusterIP (default {DEFAULT_CLUSTER_DNS}) "
                        "and an EndpointSlice pointing here")
    p.add_argument("-v", "--v", type=int, default=0)
    return p


def run(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    configure_logging(debug=ns.v >= 4)
    upstreams = None
    if ns.upstream is not None:
        upstreams = [] if ns.upstream == "none" else [u for u in ns.upstream.split(",") if u]

    try:
        asyncio.run(run_until_signalled(run_dns(
            ns.kubeconfig, node_name=ns.node_name, address=ns.bind_address, port=ns.port,
            zone=ns.cluster_domain, upstreams=upstreams, publish_ip=ns.publish_service)))
    except OSError as e:
        print(f"pocketkube dns: {e}")
        return 1
    return 0
