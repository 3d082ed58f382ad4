"""The kubernetes endpoints' pure logic: which leases are live, and the Endpoints
subsets / EndpointSlices they imply (one slice per port)."""
from __future__ import annotations

import datetime

from apiserver.assembly.endpoint_reconciler import (ServerAddress, endpoints_subsets, lease_name, lease_object,
                                                    live_addresses, micro_time, parse_time, slice_specs)

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)


def _lease(ip: str, port: int, renewed: datetime.datetime, duration: int = 15) -> dict:
    return lease_object(ServerAddress(ip, port), "holder", duration, renewed)


def test_micro_time_round_trips():
    assert micro_time(NOW) == "2026-01-02T03:04:05.678901Z"
    assert parse_time(micro_time(NOW)) == NOW
    assert parse_time("2026-01-02T03:04:05Z") == NOW.replace(microsecond=0)
    assert parse_time("garbage") is None


def test_lease_names_are_stable_per_address():
    a = ServerAddress("127.0.0.2", 6443)
    assert lease_name(a) == lease_name(ServerAddress("127.0.0.2", 6443))
    assert lease_name(a) != lease_name(ServerAddress("127.0.0.2", 6444))
    assert lease_name(a).startswith("apiserver-")
    lease = lease_object(a, "h", 15, NOW)
    assert lease["metadata"]["labels"]["apiserver.kubernetes.io/identity"] == "kube-apiserver"


def test_expired_and_malformed_leases_are_not_live():
    leases = [
        _lease("127.0.0.3", 6443, NOW),
        _lease("127.0.0.2", 6443, NOW - datetime.timedelta(seconds=10)),
        _lease("127.0.0.4", 6443, NOW - datetime.timedelta(seconds=16)),     # expired
        {"metadata": {"name": "other-lease"}, "spec": {"renewTime": micro_time(NOW)}},  # not ours
    ]
    assert live_addresses(leases, NOW) == [ServerAddress("127.0.0.2", 6443), ServerAddress("127.0.0.3", 6443)]


def test_one_port_one_subset_one_slice():
    live = [ServerAddress("127.0.0.3", 6443), ServerAddress("127.0.0.2", 6443)]
    assert endpoints_subsets(live) == [{
        "addresses": [{"ip": "127.0.0.2"}, {"ip": "127.0.0.3"}],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    specs = slice_specs(live, 6443)
    assert list(specs) == ["kubernetes"]
    assert [e["addresses"] for e in specs["kubernetes"]["endpoints"]] == [["127.0.0.2"], ["127.0.0.3"]]


def test_different_ports_split_into_subsets_and_slices():
    live = [ServerAddress("127.0.0.1", 7000), ServerAddress("127.0.0.1", 6443), ServerAddress("127.0.0.2", 7000)]
    subsets = endpoints_subsets(live)
    assert [(s["ports"][0]["port"], [a["ip"] for a in s["addresses"]]) for s in subsets] == [
        (6443, ["127.0.0.1"]), (7000, ["127.0.0.1", "127.0.0.2"])]
    specs = slice_specs(live, 6443)
    assert list(specs) == ["kubernetes", "kubernetes-7000"]
    assert specs["kubernetes-7000"]["ports"][0]["port"] == 7000


def test_no_live_server_leaves_an_empty_slice():
    assert endpoints_subsets([]) == []
    specs = slice_specs([], 6443)
    assert specs["kubernetes"]["endpoints"] == [] and specs["kubernetes"]["ports"][0]["port"] == 6443


def test_ipv6_slices():
    assert slice_specs([ServerAddress("::1", 6443)], 6443)["kubernetes"]["addressType"] == "IPv6"
