"""Mirror pods of static components (nodeagent.staticpods) against the real API server,
read back through the official Python client: created with the kubelet's annotations
and the Node as owner, Ready following the component's health, re-created when deleted."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from kubernetes import client as k8s

from kubeclient import ApiClient
from kubeclient.resources import NODES
from nodeagent.staticpods import StaticComponent
from nodeagent.staticpods.mirror import MirrorPods

from controllers_support import poll


@pytest.fixture
async def kc(server):
    async with ApiClient.from_kubeconfig(str(server.kubeconfig)) as c:
        yield c


def _ready(pod) -> str | None:
    return next((c.status for c in pod.status.conditions or [] if c.type == "Ready"), None)


async def test_mirror_pod_follows_health_and_comes_back(kc, api_client, tmp_path):
    node_name = f"mirror-{uuid.uuid4().hex[:8]}"
    node = await kc.create(NODES, {"metadata": {"name": node_name}})
    health = {"ok": True}

    async def healthy() -> bool:
        return health["ok"]

    comp = StaticComponent("kube-scheduler", ["pocketkube", "controllers"], str(tmp_path / "s.log"), healthy,
                           labels={"component": "kube-scheduler", "tier": "control-plane"})
    mirrors = MirrorPods(kc, node_name, [comp], host_ip="127.0.0.1",
                         node_uid=lambda: node["metadata"]["uid"], probe_period=0.2)
    core = k8s.CoreV1Api(api_client)
    name = f"kube-scheduler-{node_name}"

    def read():
        try:
            return core.read_namespaced_pod(name, "kube-system")
        except k8s.ApiException as e:
            if e.status == 404:
                return None
            raise

    run = asyncio.ensure_future(mirrors.run())
    try:
        pod = await poll(lambda: (p := read()) is not None and _ready(p) == "True" and p, what="a ready mirror pod")
        ann = pod.metadata.annotations
        assert ann["kubernetes.io/config.mirror"] == ann["kubernetes.io/config.hash"]
        assert ann["kubernetes.io/config.source"] == "file"
        owner = pod.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Node", node_name,
                                                                         node["metadata"]["uid"], True)
        assert pod.spec.node_name == node_name and pod.spec.host_network
        assert pod.spec.priority_class_name == "system-node-critical" and pod.spec.priority == 2000001000
        assert pod.status.phase == "Running" and pod.status.container_statuses[0].name == "kube-scheduler"

        health["ok"] = False
        await poll(lambda: _ready(read()) == "False", what="Ready=False once unhealthy")
        assert read().status.container_statuses[0].ready is False
        health["ok"] = True
        await poll(lambda: _ready(read()) == "True", what="Ready=True again")

        # deleting it (graceful, as kubectl does) brings it back as a new object
        core.delete_namespaced_pod(name, "kube-system")
        await poll(lambda: (p := read()) is not None and p.metadata.uid != pod.metadata.uid
                   and p.metadata.deletion_timestamp is None, what="the mirror pod back")
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        if read() is not None:
            core.delete_namespaced_pod(name, "kube-system", grace_period_seconds=0)
        await kc.delete(NODES, node_name)


def test_mirror_annotation_rules_as_upstream(api_client, namespace):
    core = k8s.CoreV1Api(api_client)
    pod = {"metadata": {"name": "m", "annotations": {"kubernetes.io/config.mirror": "abc"}},
           "spec": {"containers": [{"name": "c", "image": "localhost/busybox"}]}}
    with pytest.raises(k8s.ApiException) as e:
        core.create_namespaced_pod(namespace, pod)
    assert e.value.status == 422
    assert "metadata.annotations[kubernetes.io/config.mirror]" in e.value.body
    assert "must set spec.nodeName if mirror pod annotation is set" in e.value.body
    core.create_namespaced_pod(namespace, {"metadata": {"name": "plain"}, "spec": pod["spec"]})
    with pytest.raises(k8s.ApiException) as e:
        core.patch_namespaced_pod("plain", namespace, {"metadata": {"annotations": {
            "kubernetes.io/config.mirror": "abc"}}})
    assert e.value.status == 422 and "may not add mirror pod annotation" in e.value.body
    core.delete_namespaced_pod("plain", namespace, grace_period_seconds=0)
