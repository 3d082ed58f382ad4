"""kubernetes_asyncio, lightkube and kr8s against pocketkube, each as its users write
it: list, get, create, patch (every type the library offers), delete, and a watch
from a resourceVersion with a label selector (and a timeout where the library has one).
"""
from __future__ import annotations

import threading

import pytest

CM = {"apiVersion": "v1", "kind": "ConfigMap"}


def _cm(name: str, labels: dict, data: dict | None = None) -> dict:
    return {**CM, "metadata": {"name": name, "labels": labels}, "data": data or {"a": "1"}}


# --- kubernetes_asyncio ------------------------------------------------------------

async def test_kubernetes_asyncio(server, namespace):
    from kubernetes_asyncio import client, config, watch
    from kubernetes_asyncio.client.exceptions import ApiException

    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(server.kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        v1 = client.CoreV1Api(api)
        await v1.create_namespaced_config_map(namespace, _cm("aio", {"lib": "aio"}))
        assert (await v1.read_namespaced_config_map("aio", namespace)).data == {"a": "1"}
        listed = await v1.list_namespaced_config_map(namespace, label_selector="lib=aio")
        assert [i.metadata.name for i in listed.items] == ["aio"]
        rv = listed.metadata.resource_version

        got = await v1.patch_namespaced_config_map("aio", namespace, {"data": {"m": "1"}},
                                                   _content_type="application/merge-patch+json")
        assert got.data == {"a": "1", "m": "1"}
        got = await v1.patch_namespaced_config_map("aio", namespace, {"data": {"s": "1"}},
                                                   _content_type="application/strategic-merge-patch+json")
        assert got.data["s"] == "1"
        got = await v1.patch_namespaced_config_map("aio", namespace, [{"op": "remove", "path": "/data/a"}],
                                                   _content_type="application/json-patch+json")
        assert "a" not in got.data
        got = await v1.patch_namespaced_config_map("aio", namespace, {**CM, "metadata": {"name": "aio"},
                                                                      "data": {"p": "1"}},
                                                   field_manager="aio-test", force=True,
                                                   _content_type="application/apply-patch+yaml")
        assert got.data["p"] == "1"
        await v1.delete_namespaced_config_map("aio", namespace)
        with pytest.raises(ApiException) as e:
            await v1.read_namespaced_config_map("aio", namespace)
        assert (e.value.status, e.value.reason) == (404, "Not Found")

        w = watch.Watch()
        seen = []
        async with w.stream(v1.list_namespaced_config_map, namespace, label_selector="lib=aio",
                            resource_version=rv, timeout_seconds=2) as stream:
            async for ev in stream:
                seen.append(ev["type"])
        assert seen == ["MODIFIED"] * 4 + ["DELETED"]


# --- lightkube -----------------------------------------------------------------------

def test_lightkube(server, namespace):
    from lightkube import ApiError, Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap
    from lightkube.types import PatchType

    lk = Client(config=KubeConfig.from_file(str(server.kubeconfig)), namespace=namespace,
                field_manager="lightkube-test")
    lk.create(ConfigMap(metadata=ObjectMeta(name="lk", labels={"lib": "lk"}), data={"a": "1"}))
    assert lk.get(ConfigMap, "lk").data == {"a": "1"}
    listed = list(lk.list(ConfigMap, labels={"lib": "lk"}))
    assert [c.metadata.name for c in listed] == ["lk"]
    rv = lk.get(ConfigMap, "lk").metadata.resourceVersion

    assert lk.patch(ConfigMap, "lk", {"data": {"m": "1"}}, patch_type=PatchType.MERGE).data["m"] == "1"
    assert lk.patch(ConfigMap, "lk", {"data": {"s": "1"}}, patch_type=PatchType.STRATEGIC).data["s"] == "1"
    assert "a" not in lk.patch(ConfigMap, "lk", [{"op": "remove", "path": "/data/a"}],
                               patch_type=PatchType.JSON).data
    applied = lk.apply(ConfigMap(metadata=ObjectMeta(name="lk"), data={"p": "1"}), force=True)
    assert applied.data["p"] == "1"
    lk.delete(ConfigMap, "lk")
    with pytest.raises(ApiError) as e:
        lk.get(ConfigMap, "lk")
    assert e.value.status.code == 404

    # lightkube's watch re-opens itself after each server timeout: read up to DELETED
    seen = []
    for op, obj in lk.watch(ConfigMap, labels={"lib": "lk"}, resource_version=rv, server_timeout=5):
        seen.append((op, obj.metadata.name))
        if op == "DELETED":
            break
    assert seen == [("MODIFIED", "lk")] * 4 + [("DELETED", "lk")]


# --- kr8s ------------------------------------------------------------------------------

def test_kr8s(server, namespace):
    import kr8s
    from kr8s.objects import ConfigMap

    api = kr8s.api(kubeconfig=str(server.kubeconfig))
    cm = ConfigMap(_cm("k8", {"lib": "kr8s"}), namespace=namespace, api=api)
    cm.create()
    assert ConfigMap.get("k8", namespace=namespace, api=api).data == {"a": "1"}
    listed = list(api.get("configmaps", namespace=namespace, label_selector={"lib": "kr8s"}))
    assert [c.name for c in listed] == ["k8"]
    rv = listed[0].metadata.resourceVersion

    cm.patch({"data": {"m": "1"}})                                  # merge patch (kr8s' default)
    cm.patch([{"op": "remove", "path": "/data/a"}], type="json")
    cm.refresh()
    assert cm.raw["data"] == {"m": "1"}
    cm.delete()
    assert not cm.exists()

    seen = []

    def watch():   # kr8s' watch has no timeout: a missing event fails the join below, not the run
        for event, obj in api.watch("configmaps", namespace=namespace, label_selector={"lib": "kr8s"}, since=rv):
            seen.append((event, obj.name))
            if event == "DELETED":
                return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t.join(30)
    assert seen == [("MODIFIED", "k8"), ("MODIFIED", "k8"), ("DELETED", "k8")]
