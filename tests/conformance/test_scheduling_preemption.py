"""[sig-scheduling] SchedulerPreemption rows: basic preemption and preemption by a
critical pod, from their upstream descriptions. Every schedulable node advertises
5 of an extended resource; two pods per node take 2 each (the very first one at
low priority, the rest medium); a high-priority pod asking for 2 must preempt the
low one, and only it. Pods run on the node agent (trapping TERM as pause does)."""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for

RESOURCE = "scheduling.k8s.io/foo"
SLEEP = "trap 'exit 0' TERM; sleep 3600 & wait"


@pytest.fixture
def classes(api):
    """Low, medium and high priority classes of this test's own (1, 100, 1000)."""
    sched = client.SchedulingV1Api(api)
    tag = uuid.uuid4().hex[:6]
    names = {}
    for level, value in (("low", 1), ("medium", 100), ("high", 1000)):
        names[level] = f"{level}-priority-{tag}"
        sched.create_priority_class({"metadata": {"name": names[level]}, "value": value})
    yield names
    for name in names.values():
        sched.delete_priority_class(name)


@pytest.fixture
def nodes_with_foo(core, ns):
    """Schedulable Ready nodes advertising 5 of the extended resource (removed after,
    once this test's pods are gone: the next test starts from empty nodes)."""
    nodes = [n for n in core.list_node().items if not n.spec.unschedulable and
             any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    # capacity as the upstream test patches it; allocatable too, since a node agent
    # recomputes that only when it next reports
    for n in nodes:
        core.patch_node_status(n.metadata.name, {"status": {"capacity": {RESOURCE: "5"},
                                                            "allocatable": {RESOURCE: "5"}}})
    yield [n.metadata.name for n in nodes]
    core.delete_collection_namespaced_pod(ns, grace_period_seconds=0)
    wait_for(lambda: not core.list_namespaced_pod(ns).items, timeout=60, what="the test's pods gone")
    for n in nodes:
        core.patch_node_status(n.metadata.name, {"status": {"capacity": {RESOURCE: None},
                                                            "allocatable": {RESOURCE: None}}})


def _pod(name: str, priority_class: str, node: str | None = None) -> dict:
    res = {RESOURCE: "2"}
    spec = {"priorityClassName": priority_class, "terminationGracePeriodSeconds": 5,
            "containers": [{"name": "pause", "image": "localhost/busybox", "command": ["sh", "-c", SLEEP],
                            "resources": {"requests": res, "limits": res}}]}
    if node:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
    return {"metadata": {"name": name}, "spec": spec}


def _running(core, ns, name):
    return wait_for(lambda: core.read_namespaced_pod(name, ns).status.phase == "Running", timeout=120,
                    what=f"{name} Running")


def _fill_nodes(core, ns, nodes, classes) -> list[str]:
    names = []
    for i, node in enumerate(nodes):
        for j in range(2):
            level = "low" if not names else "medium"
            name = f"pod{i}-{j}-{level}"
            core.create_namespaced_pod(ns, _pod(name, classes[level], node))
            names.append(name)
    for name in names:
        _running(core, ns, name)
    return names


def _preempted(core, ns, name) -> bool:
    try:
        return core.read_namespaced_pod(name, ns).metadata.deletion_timestamp is not None
    except client.ApiException as e:
        return e.status == 404


def _only_first_preempted(core, ns, victims):
    assert _preempted(core, ns, victims[0]), f"{victims[0]} should have been preempted"
    for name in victims[1:]:
        assert core.read_namespaced_pod(name, ns).metadata.deletion_timestamp is None, name


@row("Scheduler, basic preemption", release="v1.19", needs="CTRL+POD",
     codename="[sig-scheduling] SchedulerPreemption [Serial] validates basic preemption works")
def test_basic_preemption(core, ns, classes, nodes_with_foo):
    victims = _fill_nodes(core, ns, nodes_with_foo, classes)
    core.create_namespaced_pod(ns, _pod("preemptor-pod", classes["high"]))
    _running(core, ns, "preemptor-pod")
    _only_first_preempted(core, ns, victims)


@row("Scheduler, preemption for critical pod", release="v1.19", needs="CTRL+POD",
     codename="[sig-scheduling] SchedulerPreemption [Serial] validates lower priority pod preemption by critical pod")
def test_preemption_by_critical_pod(core, ns, classes, nodes_with_foo):
    victims = _fill_nodes(core, ns, nodes_with_foo, classes)
    name = f"critical-pod-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_pod("kube-system", _pod(name, "system-cluster-critical"))
    try:
        _running(core, "kube-system", name)
        _only_first_preempted(core, ns, victims)
    finally:
        core.delete_namespaced_pod(name, "kube-system", grace_period_seconds=0)
