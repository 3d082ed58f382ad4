"""Node-pressure eviction on real Podman, safe on a shared machine: the node agent
reserves all of the host's memory but 300Mi for the system (--system-reserved), so
its pods may use 300Mi, and evicts below 230Mi available (--eviction-hard
memory.available<230Mi, which the kubelet applies to what the pods may use too):
pods using more than 70Mi put the node under memory pressure, whatever the rest of
the host does. The pods allocate about 80Mi in all, held by a blocked `dd`.

Of three pods, the one using more than it asked for with the lowest priority goes
(not the bigger high-priority one, not the one within its request); it ends Failed
with reason Evicted and the kubelet's message and event; the node reports
MemoryPressure, is tainted for it, and both go once the pressure has passed."""
from __future__ import annotations

import json
import re

import pytest

from nodeagent import hostinfo
from tests.e2e.conftest import IMAGE, fresh_namespace, running_cluster

PODS_MEMORY = 300 * 2 ** 20
TAINT = "node.kubernetes.io/memory-pressure"


@pytest.fixture(scope="module")
def pressure_cluster(tmp_path_factory):
    reserved = hostinfo.memory_bytes() - PODS_MEMORY
    with running_cluster(tmp_path_factory.mktemp("e2e-eviction"), agent_args=[
            "--system-reserved", f"memory={reserved}", "--eviction-hard", "memory.available<230Mi",
            "--housekeeping-interval", "1s", "--eviction-pressure-transition-period", "10s"]) as c:
        yield c


def _pod(name: str, command: str, priority_class: str | None = None, request: str | None = None) -> str:
    container = {"name": "main", "image": IMAGE, "command": ["sh", "-c", command]}
    if request:
        container["resources"] = {"requests": {"memory": request}}
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0, "containers": [container]}
    if priority_class:
        spec["priorityClassName"] = priority_class
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


def _hold(mib: int) -> str:
    """Allocate (and touch) mib MiB in dd's buffer; the write to a pipe nobody reads keeps it."""
    return f"dd if=/dev/zero bs={mib}M count=1 2>/dev/null | sleep 3600"


def _node_state(c) -> tuple[str | None, bool]:
    node = c.get("node", c.node)
    cond = next((x for x in node["status"]["conditions"] if x["type"] == "MemoryPressure"), {})
    return cond.get("status"), any(t["key"] == TAINT for t in node["spec"].get("taints") or [])


def test_lowest_priority_pod_over_its_request_is_evicted_under_memory_pressure(pressure_cluster):
    c = pressure_cluster
    node = c.get("node", c.node)
    allocatable = node["status"]["allocatable"]["memory"]
    assert allocatable == f"{70 * 1024}Ki"  # 300Mi for pods less the 230Mi threshold
    assert _node_state(c) == ("False", False)
    with fresh_namespace(c) as ns:
        c.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                         "metadata": {"name": f"{ns}-vip"}, "value": 1000}))
        try:
            c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("vip", _hold(45), f"{ns}-vip"))
            c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("calm", "sleep 3600", request="16Mi"))
            for name in ("vip", "calm"):
                c.wait_for(f"{name} Running", lambda name=name: c.get("pod", name, "-n", ns)["status"].get(
                    "phase") == "Running", timeout=120)
            c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("low", _hold(35)))

            low = c.wait_for("low evicted", lambda: (lambda p: p if p["status"].get("reason") == "Evicted" else None)(
                c.get("pod", "low", "-n", ns)), timeout=120)
            # the condition holds for the transition period after the last time the threshold was met
            c.wait_for("MemoryPressure and its taint", lambda: _node_state(c) == ("True", True), timeout=30)
            status = low["status"]
            assert status["phase"] == "Failed"
            assert status["message"].startswith(
                "The node was low on resource: memory. Threshold quantity: 230Mi, available: "), status["message"]
            assert "Container main was using " in status["message"]
            assert "request is 0, has larger consumption of memory. " in status["message"]
            target = next(x for x in status["conditions"] if x["type"] == "DisruptionTarget")
            assert (target["status"], target["reason"], target["message"]) == (
                "True", "TerminationByKubelet", status["message"])
            described = c.kubectl("describe", "pod", "low", "-n", ns).stdout
            assert re.search(r"^Reason:\s+Evicted$", described, re.M), described
            events = c.wait_for("Evicted event", lambda: [
                e for e in c.get("events", "-n", ns)["items"]
                if e["involvedObject"]["name"] == "low" and e["reason"] == "Evicted"])
            assert events[0]["type"] == "Warning" and events[0]["message"] == status["message"]

            node_events = [e for e in c.get("events", "-A")["items"]
                           if e["involvedObject"]["kind"] == "Node" and e["reason"] == "EvictionThresholdMet"]
            assert node_events and node_events[0]["message"] == "Attempting to reclaim memory"
            # one eviction relieved the pressure: the others run on
            for name in ("vip", "calm"):
                assert c.get("pod", name, "-n", ns)["status"]["phase"] == "Running"
            c.wait_for("pressure gone", lambda: _node_state(c) == ("False", False), timeout=60)
            for name in ("vip", "calm"):
                assert c.get("pod", name, "-n", ns)["status"]["phase"] == "Running"
        finally:
            c.kubectl("delete", "priorityclass", f"{ns}-vip", check=False)
