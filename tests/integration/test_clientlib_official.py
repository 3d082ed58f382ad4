"""The official `kubernetes` client, as its users drive it: typed API, watch.Watch,
the SharedInformer, kubernetes.dynamic and utils.create_from_yaml, all against the
session server over HTTPS. What each returns is what kube-apiserver would return.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from kubernetes import client, dynamic, utils, watch
from kubernetes.client.rest import ApiException
from kubernetes.informer import ADDED, DELETED, MODIFIED, SharedInformer


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


def _cm(name: str, labels: dict | None = None, data: dict | None = None) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"a": "1"})


def test_typed_crud_and_every_patch_type(core, namespace):
    created = core.create_namespaced_config_map(namespace, _cm("one", {"app": "x"}))
    assert created.metadata.resource_version
    assert core.read_namespaced_config_map("one", namespace).data == {"a": "1"}
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace, label_selector="app=x").items]
    assert names == ["one"]

    merged = core.patch_namespaced_config_map("one", namespace, {"data": {"b": "2"}},
                                              _content_type="application/merge-patch+json")
    assert merged.data == {"a": "1", "b": "2"}
    strategic = core.patch_namespaced_config_map("one", namespace, {"metadata": {"labels": {"tier": "t"}}},
                                                 _content_type="application/strategic-merge-patch+json")
    assert strategic.metadata.labels == {"app": "x", "tier": "t"}
    jsonpatch = core.patch_namespaced_config_map("one", namespace, [{"op": "remove", "path": "/data/a"}])
    assert jsonpatch.data == {"b": "2"}
    applied = core.patch_namespaced_config_map(
        "one", namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"},
                           "data": {"c": "3"}},
        field_manager="clientlib-test", force=True, _content_type="application/apply-patch+yaml")
    assert applied.data["c"] == "3"
    assert any(m.manager == "clientlib-test" and m.operation == "Apply" for m in applied.metadata.managed_fields)

    # delete: a Status for ConfigMaps, then 404 with its reason phrase in the exception
    core.delete_namespaced_config_map("one", namespace, grace_period_seconds=0)
    with pytest.raises(ApiException) as e:
        core.read_namespaced_config_map("one", namespace)
    assert (e.value.status, e.value.reason) == (404, "Not Found")


def test_watch_stream_from_a_resource_version_with_selector_and_timeout(core, namespace):
    """The issue's reproducer: the client sends watch=True; it must get a watch."""
    core.create_namespaced_config_map(namespace, _cm("before", {"app": "w"}))
    rv = core.list_namespaced_config_map(namespace, label_selector="app=w").metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("after", {"app": "w"}))
    core.create_namespaced_config_map(namespace, _cm("other", {"app": "not-w"}))
    core.patch_namespaced_config_map("after", namespace, {"data": {"z": "9"}})
    core.delete_namespaced_config_map("after", namespace)

    w = watch.Watch()
    seen = [(ev["type"], ev["object"].metadata.name)
            for ev in w.stream(core.list_namespaced_config_map, namespace, label_selector="app=w",
                               resource_version=rv, timeout_seconds=2, allow_watch_bookmarks=True)
            if ev["type"] != "BOOKMARK"]
    assert seen == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "after")]


def test_shared_informer_sees_objects(core, namespace):
    informer = SharedInformer(core.list_namespaced_config_map, namespace=namespace, label_selector="app=inf")
    got: dict[str, list[str]] = {ADDED: [], MODIFIED: [], DELETED: []}
    done = threading.Event()
    for kind in got:
        informer.add_event_handler(kind, lambda obj, k=kind: (got[k].append(obj.metadata.name),
                                                              k == DELETED and done.set()))
    core.create_namespaced_config_map(namespace, _cm("listed", {"app": "inf"}))
    informer.start()
    try:
        _until(lambda: "listed" in got[ADDED])
        core.create_namespaced_config_map(namespace, _cm("watched", {"app": "inf"}))
        core.patch_namespaced_config_map("watched", namespace, {"data": {"x": "y"}})
        core.delete_namespaced_config_map("watched", namespace)
        assert done.wait(20), got
    finally:
        informer.stop()
    assert "watched" in got[ADDED] and "watched" in got[MODIFIED] and got[DELETED] == ["watched"]


def test_dynamic_client(api_client, namespace):
    dyn = dynamic.DynamicClient(api_client)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    cms.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn", "labels": {"d": "1"}},
                     "data": {"k": "v"}}, namespace=namespace)
    assert cms.get(name="dyn", namespace=namespace).data.k == "v"
    assert [i.metadata.name for i in cms.get(namespace=namespace, label_selector="d=1").items] == ["dyn"]
    patched = cms.patch(name="dyn", namespace=namespace, body={"data": {"k": "w"}},
                        content_type="application/merge-patch+json")
    assert patched.data.k == "w"
    applied = cms.server_side_apply(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"},
                                          "data": {"k": "w", "s": "a"}},
                                    namespace=namespace, field_manager="dyn-test", force_conflicts=True)
    assert applied.data.s == "a"
    events = [e["type"] for e in cms.watch(namespace=namespace, label_selector="d=1", timeout=1,
                                           resource_version=applied.metadata.resourceVersion)]
    assert events == []     # nothing happened after that version: the watch just times out
    cms.delete(name="dyn", namespace=namespace)
    assert cms.get(namespace=namespace).items == [] or \
        "dyn" not in [i.metadata.name for i in cms.get(namespace=namespace).items]


def test_create_from_yaml_reports_conflicts_with_their_reason(api_client, namespace, tmp_path):
    name = f"y-{uuid.uuid4().hex[:6]}"
    doc = tmp_path / "cm.yaml"
    doc.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n")
    utils.create_from_yaml(api_client, str(doc), namespace=namespace)
    with pytest.raises(utils.FailToCreateError) as e:
        utils.create_from_yaml(api_client, str(doc), namespace=namespace)
    text = str(e.value)
    assert "Error from server (Conflict)" in text and "already exists" in text


def _until(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_concurrent_watches_see_every_event_once_in_order(api_client, namespace):
    # Several official-client watches (HTTP/1.1, one connection each) while objects change
    # quickly: the server writes each event straight to every idle watch, and a watch
    # that is busy gets it through its own task; either way, each sees all, in order.
    core = client.CoreV1Api(api_client)
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    writes, watchers = 24, 4
    seen: list[list] = [[] for _ in range(watchers)]

    def follow(out: list) -> None:
        w = watch.Watch()
        for ev in w.stream(client.CoreV1Api(api_client).list_namespaced_config_map, namespace,
                           label_selector="app=fan", resource_version=rv, timeout_seconds=60):
            out.append((ev["type"], ev["object"].metadata.name, int(ev["object"].metadata.resource_version)))
            if len(out) >= writes:
                w.stop()

    threads = [threading.Thread(target=follow, args=(out,), daemon=True) for out in seen]
    for t in threads:
        t.start()
    expected = []
    for i in range(writes):
        if i % 4 == 3:
            core.patch_namespaced_config_map(f"fan-{i - 1}", namespace, {"data": {"n": str(i)}})
            expected.append(("MODIFIED", f"fan-{i - 1}"))
        else:
            core.create_namespaced_config_map(namespace, _cm(f"fan-{i}", {"app": "fan"}))
            expected.append(("ADDED", f"fan-{i}"))
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    for out in seen:
        assert [(kind, name) for kind, name, _ in out] == expected
        assert [v for _, _, v in out] == sorted({v for _, _, v in out})
