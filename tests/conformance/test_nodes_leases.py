"""[sig-node] Node lifecycle and Lease API; [sig-architecture] node count."""
from __future__ import annotations

import datetime
import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import missing, row
from tests.conformance.support import Watcher


@row("Node, resource lifecycle", release="v1.32", needs="API",
     codename="[sig-node] Node Lifecycle should run through the lifecycle of a node")
def test_node_lifecycle(core):
    name = "e2e-fake-node-" + uuid.uuid4().hex[:5]
    listed = core.list_node(label_selector=f"e2e-node={name}")
    w = Watcher(core.list_node, label_selector=f"e2e-node={name}", resource_version=listed.metadata.resource_version)
    core.create_node({"metadata": {"name": name, "labels": {"e2e-node": name}},
                      "status": {"phase": "Running", "conditions": [
                          {"type": "Ready", "status": "True", "reason": "Passed", "message": "ready"}]}})
    w.expect_event("ADDED")
    assert core.read_node(name).metadata.name == name
    core.patch_node(name, {"metadata": {"labels": {"patched": "true"}}})
    found = core.list_node(label_selector="patched=true").items
    assert [n.metadata.name for n in found if n.metadata.name == name] == [name]
    node = core.read_node(name)
    node.metadata.labels["updated"] = "true"
    assert core.replace_node(name, node).metadata.labels["updated"] == "true"
    core.delete_node(name)
    w.expect_event("DELETED")
    with pytest.raises(client.ApiException) as err:
        core.read_node(name)
    assert err.value.status == 404
    w.stop()


@row("lease API should be available", release="v1.17", needs="API",
     codename="[sig-node] Lease lease API should be available")
def test_lease_api(api, ns):
    leases = client.CoordinationV1Api(api)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=123456)
    name = "lease"
    created = leases.create_namespaced_lease(ns, {"metadata": {"name": name}, "spec": {
        "holderIdentity": "holder", "leaseDurationSeconds": 30, "acquireTime": now.isoformat(),
        "renewTime": now.isoformat(), "leaseTransitions": 0}})
    got = leases.read_namespaced_lease(name, ns)
    assert got.spec.holder_identity == "holder" and got.spec.lease_duration_seconds == 30
    assert got.spec.acquire_time == created.spec.acquire_time  # MicroTime round-trips

    got.spec.holder_identity = "holder2"
    got.spec.lease_transitions = 1
    updated = leases.replace_namespaced_lease(name, ns, got)
    assert updated.spec.holder_identity == "holder2" and updated.spec.lease_transitions == 1

    patched = leases.patch_namespaced_lease(name, ns, {"spec": {"holderIdentity": "holder3",
                                                                "leaseDurationSeconds": 60}})
    assert patched.spec.holder_identity == "holder3" and patched.spec.lease_duration_seconds == 60

    leases.create_namespaced_lease(ns, {"metadata": {"name": "lease2", "labels": {"deletecollection": "true"}},
                                        "spec": {"holderIdentity": "holder"}})
    assert len(leases.list_namespaced_lease(ns).items) == 2
    assert any(l.metadata.name == name for l in leases.list_lease_for_all_namespaces().items)
    leases.delete_collection_namespaced_lease(ns, label_selector="deletecollection=true")
    assert [l.metadata.name for l in leases.list_namespaced_lease(ns).items] == [name]
    leases.delete_namespaced_lease(name, ns)
    with pytest.raises(client.ApiException) as err:
        leases.read_namespaced_lease(name, ns)
    assert err.value.status == 404


@row("Conformance tests minimum number of nodes", release="v1.23", needs="POD",
     codename="[sig-architecture] Conformance Tests should have at least two untainted nodes")
@missing("a second untainted node: the suite's own pocketkube runs one node agent (`pocketkube up`)")
def test_at_least_two_untainted_nodes(core):
    nodes = [n for n in core.list_node().items
             if not any(t.effect in ("NoSchedule", "NoExecute") for t in (n.spec.taints or []))]
    assert len(nodes) >= 2
