"""The API through the official Python client: CRUD, conflicts, paging, watch from a version."""
from __future__ import annotations

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


def _cm(name: str, **labels) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or None), data={"k": "v"})


def test_configmap_crud(api_client, namespace):
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_config_map(namespace, _cm("crud"))
    meta = created.metadata
    assert meta.uid and meta.resource_version and meta.creation_timestamp
    got = core.read_namespaced_config_map("crud", namespace)
    assert got.data == {"k": "v"} and got.metadata.uid == meta.uid

    got.data["k"] = "v2"
    replaced = core.replace_namespaced_config_map("crud", namespace, got)
    assert replaced.data == {"k": "v2"}
    assert int(replaced.metadata.resource_version) > int(meta.resource_version)

    patched = core.patch_namespaced_config_map("crud", namespace, {"metadata": {"labels": {"p": "1"}}})
    assert patched.metadata.labels == {"p": "1"} and patched.data == {"k": "v2"}

    core.delete_namespaced_config_map("crud", namespace)
    with pytest.raises(ApiException) as e:
        core.read_namespaced_config_map("crud", namespace)
    assert e.value.status == 404


def test_generate_name_and_already_exists(api_client, namespace):
    core = client.CoreV1Api(api_client)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="gen-"))
    made = core.create_namespaced_config_map(namespace, body)
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == len("gen-") + 5
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map(namespace, _cm(made.metadata.name))
    assert e.value.status == 409 and '"AlreadyExists"' in e.value.body


def test_stale_update_is_409(api_client, namespace):
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map(namespace, _cm("stale"))
    fresh = core.read_namespaced_config_map("stale", namespace)
    fresh.data = {"k": "newer"}
    core.replace_namespaced_config_map("stale", namespace, fresh)
    first.data = {"k": "older"}
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("stale", namespace, first)
    assert e.value.status == 409
    assert "the object has been modified; please apply your changes to the latest version and try again" \
        in e.value.body


def test_paging_with_continue_and_remaining_count(api_client, namespace):
    core = client.CoreV1Api(api_client)
    for i in range(7):
        core.create_namespaced_config_map(namespace, _cm(f"page-{i}", paged="yes"))
    first = core.list_namespaced_config_map(namespace, limit=3)
    assert len(first.items) == 3 and first.metadata._continue
    assert first.metadata.remaining_item_count == 4
    names = [i.metadata.name for i in first.items]
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
    assert names == sorted(f"page-{i}" for i in range(7))
    # a selector with a limit still fills pages from what matches
    sel = core.list_namespaced_config_map(namespace, limit=2, label_selector="paged=yes")
    assert len(sel.items) == 2 and sel.metadata._continue


def test_watch_from_resource_version_sees_exactly_the_later_events(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, _cm("before"))
    start_rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("w"))
    core.patch_namespaced_config_map("w", namespace, {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w", namespace)

    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, namespace, resource_version=start_rv,
                       timeout_seconds=10):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED":
            w.stop()
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_sees_live_changes_and_selector_transitions(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, _cm("sel"))
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    seen = []
    w = watch.Watch()

    def writer():
        core.patch_namespaced_config_map("sel", namespace, {"metadata": {"labels": {"team": "a"}}})
        core.patch_namespaced_config_map("sel", namespace, {"data": {"k": "3"}})
        core.patch_namespaced_config_map("sel", namespace, {"metadata": {"labels": {"team": "b"}}})

    t = threading.Timer(0.3, writer)
    t.start()
    for ev in w.stream(core.list_namespaced_config_map, namespace, label_selector="team=a",
                       resource_version=rv, timeout_seconds=10):
        seen.append(ev["type"])
        if ev["type"] == "DELETED":
            w.stop()
    t.join()
    assert seen == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_without_version_starts_with_current_objects(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, _cm("one"))
    core.create_namespaced_config_map(namespace, _cm("two"))
    events = list(watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "one"), ("ADDED", "two")]


def test_all_namespaces_list_and_field_selector(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(namespace, _cm("everywhere"))
    items = core.list_config_map_for_all_namespaces(field_selector="metadata.name=everywhere").items
    assert [(i.metadata.namespace, i.metadata.name) for i in items] == [(namespace, "everywhere")]
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod(namespace, field_selector="spec.bogus=x")
    assert e.value.status == 400 and "field label not supported: spec.bogus" in e.value.body


def test_dry_run_stores_nothing(api_client, namespace):
    core = client.CoreV1Api(api_client)
    out = core.create_namespaced_config_map(namespace, _cm("dry"), dry_run="All")
    assert out.metadata.name == "dry" and out.metadata.uid
    with pytest.raises(ApiException) as e:
        core.read_namespaced_config_map("dry", namespace)
    assert e.value.status == 404
    core.create_namespaced_config_map(namespace, _cm("wet"))
    core.delete_namespaced_config_map("wet", namespace, dry_run="All")
    assert core.read_namespaced_config_map("wet", namespace).metadata.name == "wet"
