"""Deletion semantics, subresources and status rules, through the Python client."""
from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def _pod(name: str, node: str | None = None, grace: int | None = None) -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name),
                        spec=client.V1PodSpec(node_name=node, termination_grace_period_seconds=grace,
                                              containers=[client.V1Container(name="c", image="busybox")]))


def _gone(fn, *args) -> bool:
    try:
        fn(*args)
    except ApiException as e:
        return e.status == 404
    return False


def test_unscheduled_pod_is_deleted_at_once(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("loose"))
    core.delete_namespaced_pod("loose", namespace)
    assert _gone(core.read_namespaced_pod, "loose", namespace)


def test_pod_on_a_node_is_deleted_gracefully(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("bound", node="node-a", grace=45))
    core.delete_namespaced_pod("bound", namespace)
    pod = core.read_namespaced_pod("bound", namespace)
    assert pod.metadata.deletion_timestamp is not None
    assert pod.metadata.deletion_grace_period_seconds == 45
    # the node agent finishes with grace 0
    core.delete_namespaced_pod("bound", namespace, grace_period_seconds=0)
    assert _gone(core.read_namespaced_pod, "bound", namespace)


def test_terminal_pod_is_deleted_at_once(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("done", node="node-a"))
    core.patch_namespaced_pod_status("done", namespace, {"status": {"phase": "Succeeded"}})
    core.delete_namespaced_pod("done", namespace)
    assert _gone(core.read_namespaced_pod, "done", namespace)


def test_finalizers_hold_an_object_until_removed(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="held", finalizers=["example.com/hold"])))
    core.delete_namespaced_config_map("held", namespace)
    cm = core.read_namespaced_config_map("held", namespace)
    assert cm.metadata.deletion_timestamp is not None and cm.metadata.finalizers == ["example.com/hold"]
    core.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    assert _gone(core.read_namespaced_config_map, "held", namespace)


@pytest.mark.parametrize("policy,finalizer", [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")])
def test_propagation_policy_adds_its_finalizer(api_client, namespace, policy, finalizer):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner")))
    core.delete_namespaced_config_map("owner", namespace, propagation_policy=policy)
    cm = core.read_namespaced_config_map("owner", namespace)
    assert finalizer in cm.metadata.finalizers and cm.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("owner", namespace, {"metadata": {"finalizers": None}})
    assert _gone(core.read_namespaced_config_map, "owner", namespace)


def test_namespace_deletion_is_terminating_until_finalized(api_client):
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="doomed")))
    core.delete_namespace("doomed")
    ns = core.read_namespace("doomed")
    assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp is not None
    assert ns.spec.finalizers == ["kubernetes"]
    ns.spec.finalizers = []
    core.replace_namespace_finalize("doomed", ns)
    assert _gone(core.read_namespace, "doomed")


def test_status_and_main_resource_ignore_each_others_part(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("split"))
    core.patch_namespaced_pod("split", namespace, {"status": {"phase": "Running"}})
    assert core.read_namespaced_pod("split", namespace).status.phase == "Pending"
    core.patch_namespaced_pod_status("split", namespace, {"status": {"phase": "Running"},
                                                          "spec": {"activeDeadlineSeconds": 5}})
    pod = core.read_namespaced_pod("split", namespace)
    assert pod.status.phase == "Running" and pod.spec.active_deadline_seconds is None


def test_binding_sets_the_node_once(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("tobind"))
    body = client.V1Binding(metadata=client.V1ObjectMeta(name="tobind"),
                            target=client.V1ObjectReference(kind="Node", name="node-b"))
    core.create_namespaced_pod_binding("tobind", namespace, body, _preload_content=False)
    assert core.read_namespaced_pod("tobind", namespace).spec.node_name == "node-b"
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod_binding("tobind", namespace, body, _preload_content=False)
    assert e.value.status == 409 and "is already assigned to node" in e.value.body


def test_replication_controller_scale(api_client, namespace):
    core = client.CoreV1Api(api_client)
    rc = client.V1ReplicationController(
        metadata=client.V1ObjectMeta(name="rc"),
        spec=client.V1ReplicationControllerSpec(
            replicas=1, selector={"app": "rc"},
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "rc"}),
                                              spec=client.V1PodSpec(containers=[
                                                  client.V1Container(name="c", image="busybox")]))))
    created = core.create_namespaced_replication_controller(namespace, rc)
    assert created.metadata.generation == 1
    scale = core.read_namespaced_replication_controller_scale("rc", namespace)
    assert scale.spec.replicas == 1 and scale.status.selector == "app=rc"
    core.patch_namespaced_replication_controller_scale("rc", namespace, {"spec": {"replicas": 3}})
    after = core.read_namespaced_replication_controller("rc", namespace)
    assert after.spec.replicas == 3 and after.metadata.generation == 2


def test_deletecollection_with_selector(api_client, namespace):
    core = client.CoreV1Api(api_client)
    for name, team in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels={"team": team})))
    core.delete_collection_namespaced_config_map(namespace, label_selector="team=a")
    left = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert "b1" in left and "a1" not in left and "a2" not in left


def test_eviction_deletes_the_pod(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, _pod("evictee"))
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name="evictee", namespace=namespace))
    core.create_namespaced_pod_eviction("evictee", namespace, body)
    assert _gone(core.read_namespaced_pod, "evictee", namespace)
