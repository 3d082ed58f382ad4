"""scheduling.k8s.io PriorityClass and node.k8s.io RuntimeClass through real clients."""
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def _invalid(call) -> list[str]:
    with pytest.raises(ApiException) as e:
        call()
    assert e.value.status == 422, e.value.body
    return [c["field"] for c in json.loads(e.value.body)["details"]["causes"]]


def test_builtin_priority_classes_and_rules(api_client, kubectl):
    sched = client.SchedulingV1Api(api_client)
    builtin = {pc.metadata.name: pc.value for pc in sched.list_priority_class().items}
    assert builtin["system-node-critical"] == 2000001000 and builtin["system-cluster-critical"] == 2000000000
    out = kubectl("get", "pc", "system-node-critical").stdout.split("\n")[0].split()
    assert out == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    pc = sched.create_priority_class({"metadata": {"name": "user-high"}, "value": 1000})
    assert pc.preemption_policy == "PreemptLowerPriority"
    assert _invalid(lambda: sched.patch_priority_class("user-high", {"value": 5})) == ["value"]
    sched.delete_priority_class("user-high")
    assert _invalid(lambda: sched.create_priority_class({"metadata": {"name": "system-mine"}, "value": 1})) == \
        ["metadata.name"]
    assert _invalid(lambda: sched.create_priority_class({"metadata": {"name": "too-high"},
                                                         "value": 1000000001})) == ["value"]


def test_runtime_class(api_client, kubectl):
    node = client.NodeV1Api(api_client)
    node.create_runtime_class({"metadata": {"name": "rc-test"}, "handler": "crun"})
    assert "crun" in kubectl("get", "runtimeclass", "rc-test").stdout
    assert _invalid(lambda: node.patch_runtime_class("rc-test", {"handler": "runc"})) == ["handler"]
    node.delete_runtime_class("rc-test")
    assert _invalid(lambda: node.create_runtime_class({"metadata": {"name": "bad"}, "handler": "Not_A_Label"})) == \
        ["handler"]
