"""The pure part of simulated nodes: pod CIDRs, pod IPs, and KWOK-like pod stages."""
from __future__ import annotations

import pytest

from nodeagent.simulated_pods import (PodIPs, completed_status, next_stage, node_pod_cidr, running_status)


def test_each_node_gets_its_own_slash_24_of_the_cluster_range():
    assert node_pod_cidr("10.128.0.0/9", 0) == "10.128.0.0/24"
    assert node_pod_cidr("10.128.0.0/9", 1) == "10.128.1.0/24"
    assert node_pod_cidr("10.128.0.0/9", 4999) == "10.147.135.0/24"
    with pytest.raises(ValueError):
        node_pod_cidr("10.128.0.0/23", 2)


def test_pod_ips_are_handed_out_once_and_reused_after_release():
    ips = PodIPs("10.128.3.0/24")
    a, b = ips.assign("a"), ips.assign("b")
    assert (a, b) == ("10.128.3.1", "10.128.3.2")
    assert ips.assign("a") == a  # the same pod asks again: the same address
    ips.release("a")
    assert ips.assign("c") == a and len(ips) == 2


def test_a_full_cidr_is_refused():
    ips = PodIPs("10.0.0.0/30")  # two usable addresses
    ips.assign("a"), ips.assign("b")
    with pytest.raises(ValueError):
        ips.assign("c")


def _pod(phase=None, deleting=False, owner=None):
    meta = {"name": "p", "namespace": "n", "uid": "u1"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "o", "uid": "o1", "apiVersion": "v1"}]
    return {"metadata": meta, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase} if phase else {}}


def test_stages_follow_kwoks_defaults():
    assert next_stage(_pod()) == "run"
    assert next_stage(_pod("Pending")) == "run"
    assert next_stage(_pod("Running")) is None
    assert next_stage(_pod("Running", owner="Job")) == "complete"
    assert next_stage(_pod("Running", deleting=True)) == "delete"
    assert next_stage(_pod("Succeeded", owner="Job")) is None


def test_running_status_is_ready_with_the_ip_and_every_container_running():
    st = running_status(_pod("Pending"), "10.128.0.7")
    assert st["phase"] == "Running" and st["podIP"] == "10.128.0.7" and st["podIPs"] == [{"ip": "10.128.0.7"}]
    assert {c["type"]: c["status"] for c in st["conditions"]}["Ready"] == "True"
    assert [(c["name"], c["ready"], "running" in c["state"]) for c in st["containerStatuses"]] == [("c", True, True)]


def test_completed_status_terminates_every_container_with_exit_0():
    pod = _pod("Running", owner="Job")
    pod["status"] = running_status(pod, "10.128.0.8")
    st = completed_status(pod)
    assert st["phase"] == "Succeeded"
    assert [c["state"]["terminated"]["exitCode"] for c in st["containerStatuses"]] == [0]
