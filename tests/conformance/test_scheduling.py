"""scheduling.k8s.io rows."""
from __future__ import annotations

import pytest
from kubernetes import client

from tests.conformance.rows import row


@row("Scheduler, Verify PriorityClass endpoints", release="v1.20", needs="API",
     codename="[sig-scheduling] SchedulerPreemption [Serial] PriorityClass endpoints verify PriorityClass endpoints can be operated with different HTTP methods")
def test_priorityclass_endpoints(api):
    sched = client.SchedulingV1Api(api)
    pc = sched.create_priority_class({"metadata": {"name": "p1-e2e"}, "value": 1})
    try:
        sched.patch_priority_class(pc.metadata.name, {"metadata": {"labels": {"e2e": "patched"}}})
        with pytest.raises(client.ApiException) as err:
            sched.patch_priority_class(pc.metadata.name, {"value": 2})
        assert err.value.status == 422
    finally:
        sched.delete_priority_class(pc.metadata.name)
