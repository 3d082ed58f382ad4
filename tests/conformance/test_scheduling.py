"""scheduling.k8s.io rows."""
from __future__ import annotations

import pytest
from kubernetes import client

from tests.conformance.rows import row


@row("Scheduler, Verify PriorityClass endpoints", release="v1.20", needs="API",
     codename="[sig-scheduling] SchedulerPreemption [Serial] PriorityClass endpoints verify PriorityClass endpoints can be operated with different HTTP methods")
def test_priorityclass_endpoints(api, ns):
    sched = client.SchedulingV1Api(api)
    names = [f"{ns}-p{i}" for i in range(1, 5)]
    for i, name in enumerate(names, start=1):
        sched.create_priority_class({"metadata": {"name": name, "labels": {"e2e": ns}}, "value": i})
    try:
        with pytest.raises(client.ApiException) as err:  # the value is immutable
            sched.patch_priority_class(names[0], {"value": 10})
        assert err.value.status == 422
        patched = sched.patch_priority_class(names[0], {"metadata": {"labels": {"patched": "true"}}})
        assert patched.metadata.labels["patched"] == "true"
        pc = sched.read_priority_class(names[1])
        pc.description = "updated"
        assert sched.replace_priority_class(names[1], pc).description == "updated"
        listed = sched.list_priority_class(label_selector=f"e2e={ns}").items
        assert sorted(p.metadata.name for p in listed) == names
        assert {p.metadata.name: p.value for p in listed} == {n: i for i, n in enumerate(names, start=1)}
        builtins = {p.metadata.name: p.value for p in sched.list_priority_class().items}
        assert builtins["system-node-critical"] == 2000001000 and builtins["system-cluster-critical"] == 2000000000
    finally:
        sched.delete_collection_priority_class(label_selector=f"e2e={ns}")
    assert not sched.list_priority_class(label_selector=f"e2e={ns}").items
