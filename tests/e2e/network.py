"""A cluster with its data path: `pocketkube proxy` and `pocketkube dns` as processes.

Its own service range (a random 10.x.0.0/16), nft table (named after the node),
DNS port (any free one on the node address) and no DNS forwarding, so nothing a
test does leaves this machine. Traffic goes only to addresses the proxy has
programmed: `programmed()` reads `nft list` before a test sends anything.
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import subprocess
import sys

import pytest

from tests.e2e.conftest import Proc, running_cluster
from tests.harness import REPO_ROOT
from tests.ports import free_port


def nft_map(table: str, name: str) -> str:
    cp = subprocess.run(["nft", "list", "map", "ip", table, name], capture_output=True, text=True)
    return cp.stdout


def programmed(table: str, ip: str, proto: str, port: int) -> bool:
    """The proxy has a rule for ip:port (a service, or a reject for one without endpoints)."""
    key = f"{ip} . {proto} . {port} :"
    return key in nft_map(table, "service-ips") or key in nft_map(table, "no-endpoint-services")


def nodeport_programmed(table: str, proto: str, port: int) -> bool:
    return f"{proto} . {port} :" in nft_map(table, "service-nodeports")


def cleanup_proxy(node: str, cidr: str) -> None:
    subprocess.run([sys.executable, "-m", "pocketkube", "proxy", "--cleanup", "--hostname-override", node,
                    "--service-cluster-ip-range", cidr], cwd=REPO_ROOT, capture_output=True, timeout=60)


@contextlib.contextmanager
def networked_cluster(base):
    if os.geteuid() != 0:
        pytest.skip("the proxy needs root (nftables, routes)")
    cidr = f"10.{random.randint(100, 250)}.0.0/16"
    dns_ip = str(ipaddress.ip_network(cidr)[10])
    started: list = []

    def start_network(c) -> None:
        kc = str(c.server.kubeconfig)
        c.service_cidr, c.dns_ip, c.table = cidr, dns_ip, f"pocketkube-proxy-{c.node}"
        port = free_port()
        c.proxy_metrics = f"http://127.0.0.1:{port}/metrics"
        c.proxy = Proc("proxy", ["proxy", "--kubeconfig", kc, "--hostname-override", c.node,
                                 "--service-cluster-ip-range", cidr, "--min-sync-period", "0.1",
                                 "--metrics-bind-address", f"127.0.0.1:{port}"],
                       base / "proxy.log").start()
        c.dns = Proc("dns", ["dns", "--kubeconfig", kc, "--node-name", c.node, "--port", "0", "--upstream", "none",
                             "--publish-service", dns_ip], base / "dns.log").start()
        started.append(c)

    try:
        with running_cluster(base, server_args=["--service-cluster-ip-range", cidr],
                             agent_args=["--cluster-dns", dns_ip], before_agent=start_network) as c:
            yield c
    finally:
        for c in started:
            c.dns.stop()
            c.proxy.stop()
            cleanup_proxy(c.node, cidr)
