"""Priority, RuntimeClass, DefaultStorageClass and StorageObjectInUseProtection on a real registry."""
import pytest

from apiserver.admission.storage_protection import default_class_name
from apiserver.machinery.errors import StatusError
from apiserver.registry.options import DeleteOptions

from admission_cluster import pod


async def _priority_class(cluster, name, value, **extra):
    await cluster.create("priorityclasses", "", {"metadata": {"name": name}, "value": value, **extra},
                         group="scheduling.k8s.io")


async def test_priority_class_name_resolves_to_value_and_policy(cluster):
    await _priority_class(cluster, "high", 1000, preemptionPolicy="Never")
    obj, _ = await cluster.create("pods", "default", pod(priorityClassName="high"))
    assert (obj["spec"]["priority"], obj["spec"]["preemptionPolicy"]) == (1000, "Never")


async def test_no_class_means_zero_or_the_global_default(cluster):
    obj, _ = await cluster.create("pods", "default", pod("a"))
    assert (obj["spec"]["priority"], obj["spec"]["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    await _priority_class(cluster, "dflt", 7, globalDefault=True)
    obj, _ = await cluster.create("pods", "default", pod("b"))
    assert (obj["spec"]["priorityClassName"], obj["spec"]["priority"]) == ("dflt", 7)


async def test_unknown_class_and_a_contradicting_priority_are_refused(cluster):
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod(priorityClassName="nope"))
    assert (e.value.code, e.value.message) == (403, 'pods "p" is forbidden: no PriorityClass with name nope was found')
    await _priority_class(cluster, "mid", 5)
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod(priorityClassName="mid", priority=6))
    assert "the integer value of priority (6) must not be provided in pod spec" in e.value.message


async def test_one_global_default_and_undeletable_system_classes(cluster):
    await _priority_class(cluster, "d1", 1, globalDefault=True)
    with pytest.raises(StatusError) as e:
        await _priority_class(cluster, "d2", 2, globalDefault=True)
    assert e.value.code == 403 and "PriorityClass d1 is already marked as default" in e.value.message
    await _priority_class(cluster, "system-node-critical", 2000001000)
    with pytest.raises(StatusError) as e:
        await cluster.gs("priorityclasses", "scheduling.k8s.io").delete("", "system-node-critical", DeleteOptions(), cluster.ctx())
    assert e.value.code == 403 and "is a system priority class and cannot be deleted" in e.value.message


async def test_runtime_class_fills_overhead_and_scheduling(cluster):
    await cluster.create("runtimeclasses", "", {
        "metadata": {"name": "kata"}, "handler": "kata", "overhead": {"podFixed": {"memory": "64Mi"}},
        "scheduling": {"nodeSelector": {"rt": "kata"}, "tolerations": [{"key": "rt", "operator": "Exists"}]}},
        group="node.k8s.io")
    obj, _ = await cluster.create("pods", "default", pod(runtimeClassName="kata", nodeSelector={"zone": "a"}))
    spec = obj["spec"]
    assert spec["overhead"] == {"memory": "64Mi"} and spec["nodeSelector"] == {"zone": "a", "rt": "kata"}
    assert {"key": "rt", "operator": "Exists"} in spec["tolerations"]
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod("q", runtimeClassName="kata", nodeSelector={"rt": "gvisor"}))
    assert e.value.message.endswith("conflict: runtimeClass.scheduling.nodeSelector[rt] = kata; "
                                    "pod.spec.nodeSelector[rt] = gvisor")
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod("r", runtimeClassName="missing"))
    assert (e.value.code, e.value.message) == (403, 'pods "r" is forbidden: pod rejected: RuntimeClass "missing" not found')


def _claim(name, **spec):
    return {"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "1Gi"}}, **spec}}


async def test_claims_get_the_default_class_and_protection(cluster):
    obj, _ = await cluster.create("persistentvolumeclaims", "default", _claim("none"))
    assert "storageClassName" not in obj["spec"]  # no default class yet
    assert obj["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    await cluster.create("storageclasses", "", {
        "metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path"}, group="storage.k8s.io")
    obj, _ = await cluster.create("persistentvolumeclaims", "default", _claim("dflt"))
    assert obj["spec"]["storageClassName"] == "local-path"
    obj, _ = await cluster.create("persistentvolumeclaims", "default", _claim("empty", storageClassName=""))
    assert obj["spec"]["storageClassName"] == ""  # "" asks for no class
    pv, _ = await cluster.create("persistentvolumes", "", {"metadata": {"name": "v"}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/v"}}})
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]


def test_newest_default_class_wins():
    ann = {"storageclass.kubernetes.io/is-default-class": "true"}
    classes = [{"metadata": {"name": "old", "annotations": ann, "creationTimestamp": "2024-01-01T00:00:00Z"}},
               {"metadata": {"name": "new", "annotations": ann, "creationTimestamp": "2025-01-01T00:00:00Z"}},
               {"metadata": {"name": "plain", "creationTimestamp": "2026-01-01T00:00:00Z"}}]
    assert default_class_name(classes) == "new"
    assert default_class_name(classes[2:]) == ""
