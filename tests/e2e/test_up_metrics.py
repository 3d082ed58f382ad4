"""`pocketkube up` serves its in-process components' /metrics at the loopback address it
prints: the scheduler's, the controllers' work queues, the proxy's syncs and the
cluster DNS's queries are there, and move as the cluster works."""
from __future__ import annotations

import re
import socket
import time

import httpx
import pytest
from dnslib import DNSRecord
from kubernetes import client, config

from tests.e2e.test_metrics_nodeagent_proxy import parse, value


def printed_metrics_url(data) -> str:
    m = re.search(r"^Metrics of the scheduler, controllers, proxy and DNS: (http://127\.0\.0\.1:\d+/metrics)$",
                  (data / "pocketkube.log").read_text(), re.M)
    assert m, "pocketkube up did not print its metrics address"
    return m.group(1)


def poll(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def is_local_address(ip: str) -> bool:
    """An address of this machine (binding to it succeeds), so a packet sent there stays here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((ip, 0))
            return True
        except OSError:
            return False


def dns_endpoint(kubeconfig) -> tuple[str, int]:
    api = client.DiscoveryV1Api(config.new_client_from_config(config_file=str(kubeconfig)))

    def published():
        for sl in api.list_namespaced_endpoint_slice("kube-system",
                                                     label_selector="kubernetes.io/service-name=kube-dns").items:
            udp = [p.port for p in sl.ports or [] if p.protocol == "UDP"]
            for e in sl.endpoints or []:
                if udp and e.addresses:
                    return e.addresses[0], udp[0]
        return None
    return poll("the cluster DNS's endpoint", published)


def test_up_serves_the_components_metrics_on_loopback(up_cluster):
    data, kubeconfig = up_cluster
    url = printed_metrics_url(data)
    page = poll("the scheduler and the controllers at work", lambda: (
        p if value(p := parse(httpx.get(url).text), "workqueue_queue_duration_seconds_count") > 0 else None))
    assert "scheduler_pending_pods" in page
    assert value(page, "workqueue_work_duration_seconds_count") > 0
    assert value(page, "workqueue_adds_total", name="serviceaccount") > 0
    assert value(page, "process_resident_memory_bytes") > 0
    # the proxy has synced the Services it found (as root it runs beside the node agent)
    page = poll("a proxy sync", lambda: (
        p if value(p := parse(httpx.get(url).text), "kubeproxy_sync_proxy_rules_duration_seconds_count") else None))

    # one query to the cluster DNS, at its published endpoint (this machine's address)
    ip, port = dns_endpoint(kubeconfig)
    assert is_local_address(ip), f"the DNS endpoint {ip} is not an address of this machine"
    before = value(page, "coredns_dns_requests_total", proto="udp", type="A")
    reply = DNSRecord.parse(DNSRecord.question("kubernetes.default.svc.cluster.local", "A").send(ip, port, timeout=5))
    assert reply.header.rcode == 0 and reply.rr
    after = parse(httpx.get(url).text)
    assert value(after, "coredns_dns_requests_total", proto="udp", type="A") == before + 1
    assert value(after, "coredns_dns_responses_total", rcode="NOERROR") >= 1
