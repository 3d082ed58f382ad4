"""PodTemplates, ConfigMaps, Secrets, LimitRanges: API lifecycle rows."""
from __future__ import annotations

import base64
import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row

TEMPLATE_SPEC = {"spec": {"containers": [{"name": "nginx", "image": "localhost/busybox"}]}}


@row("PodTemplate lifecycle", release="v1.19", needs="API",
     codename="[sig-node] PodTemplates should run the lifecycle of PodTemplates")
def test_podtemplate_lifecycle(core, ns):
    name = "nginx-pod-template-" + uuid.uuid4().hex[:5]
    core.create_namespaced_pod_template(ns, {"metadata": {"name": name, "labels": {"podtemplate-static": "true"}},
                                             "template": TEMPLATE_SPEC})
    found = core.list_namespaced_pod_template(ns, label_selector="podtemplate-static=true").items
    assert [t.metadata.name for t in found] == [name]
    core.patch_namespaced_pod_template(name, ns, {"metadata": {"labels": {"podtemplate": "patched"}}})
    got = core.read_namespaced_pod_template(name, ns)
    assert got.metadata.labels["podtemplate"] == "patched"
    core.delete_namespaced_pod_template(name, ns)
    assert core.list_namespaced_pod_template(ns, label_selector="podtemplate-static=true").items == []


@row("PodTemplate, delete a collection", release="v1.19", needs="API",
     codename="[sig-node] PodTemplates should delete a collection of pod templates")
def test_podtemplate_delete_collection(core, ns):
    for n in ("test-podtemplate-1", "test-podtemplate-2", "test-podtemplate-3"):
        core.create_namespaced_pod_template(ns, {"metadata": {"name": n, "labels": {"podtemplate-set": "true"}},
                                                 "template": TEMPLATE_SPEC})
    assert len(core.list_namespaced_pod_template(ns, label_selector="podtemplate-set=true").items) == 3
    core.delete_collection_namespaced_pod_template(ns, label_selector="podtemplate-set=true")
    assert core.list_namespaced_pod_template(ns, label_selector="podtemplate-set=true").items == []


@row("PodTemplate, replace", release="v1.24", needs="API",
     codename="[sig-node] PodTemplates should replace a pod template")
def test_podtemplate_replace(core, ns):
    name = "podtemplate-" + uuid.uuid4().hex[:5]
    core.create_namespaced_pod_template(ns, {"metadata": {"name": name}, "template": {
        "spec": {"containers": [{"name": "e2e-test", "image": "localhost/busybox"}],
                 "terminationGracePeriodSeconds": 1}}})
    current = core.read_namespaced_pod_template(name, ns)
    current.metadata.annotations = {"updated": "true"}
    replaced = core.replace_namespaced_pod_template(name, ns, current)
    assert replaced.metadata.annotations["updated"] == "true"


@row("ConfigMap lifecycle", release="v1.19", needs="API",
     codename="[sig-node] ConfigMap should run through a ConfigMap lifecycle")
def test_configmap_lifecycle(core, ns):
    name = "e2e-configmap-test-" + uuid.uuid4().hex[:5]
    core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": {"test-configmap-static": "true"}},
                                           "data": {"valueName": "value"}})
    core.patch_namespaced_config_map(name, ns, {"metadata": {"labels": {"test-configmap": "patched"}},
                                                "data": {"valueName": "value1"}})
    got = core.read_namespaced_config_map(name, ns)
    assert got.metadata.labels["test-configmap"] == "patched" and got.data["valueName"] == "value1"
    everywhere = core.list_config_map_for_all_namespaces(label_selector="test-configmap-static=true").items
    mine = [c for c in everywhere if c.metadata.name == name]
    assert mine and mine[0].data["valueName"] == "value1"
    core.delete_collection_namespaced_config_map(ns, label_selector="test-configmap-static=true")
    assert core.list_namespaced_config_map(ns, label_selector="test-configmap-static=true").items == []


@row("ConfigMap, with empty-key", release="v1.14", needs="API",
     codename="[sig-node] ConfigMap should fail to create ConfigMap with empty key")
def test_configmap_empty_key(core, ns):
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_config_map(ns, {"metadata": {"name": "configmap-test-emptykey"}, "data": {"": "value-1"}})
    assert err.value.status == 422


def _immutability(core, ns, kind):
    create, read, replace, patch, delete = {
        "configmap": (core.create_namespaced_config_map, core.read_namespaced_config_map,
                      core.replace_namespaced_config_map, core.patch_namespaced_config_map,
                      core.delete_namespaced_config_map),
        "secret": (core.create_namespaced_secret, core.read_namespaced_secret,
                   core.replace_namespaced_secret, core.patch_namespaced_secret, core.delete_namespaced_secret),
    }[kind]
    enc = (lambda v: base64.b64encode(v.encode()).decode()) if kind == "secret" else (lambda v: v)
    name = f"immutable-{kind}-" + uuid.uuid4().hex[:5]
    create(ns, {"metadata": {"name": name}, "data": {"data-1": enc("value-1")}})
    patch(name, ns, {"data": {"data-1": enc("value-2")}})              # mutable: fine
    patch(name, ns, {"immutable": True, "data": {"data-3": enc("value-3")}})
    with pytest.raises(client.ApiException) as err:
        patch(name, ns, {"data": {"data-1": enc("value-4")}})
    assert err.value.status == 422
    with pytest.raises(client.ApiException) as err:
        patch(name, ns, {"immutable": False})
    assert err.value.status == 422
    obj = read(name, ns)
    obj.metadata.labels = {"label1": "value1"}
    assert replace(name, ns, obj).metadata.labels == {"label1": "value1"}
    delete(name, ns)


@row("ConfigMap Volume, immutability", release="v1.21", needs="API",
     codename="[sig-storage] ConfigMap should be immutable if `immutable` field is set")
def test_configmap_immutable(core, ns):
    _immutability(core, ns, "configmap")


@row("Secrets Volume, immutability", release="v1.21", needs="API",
     codename="[sig-storage] Secrets should be immutable if `immutable` field is set")
def test_secret_immutable(core, ns):
    _immutability(core, ns, "secret")


@row("Secret patching", release="v1.18", needs="API",
     codename="[sig-node] Secrets should patch a secret")
def test_secret_patching(core, ns):
    name = "test-secret-" + uuid.uuid4().hex[:5]
    value = base64.b64encode(b"value").decode()
    core.create_namespaced_secret(ns, {"metadata": {"name": name, "labels": {"testsecret-constant": "true"}},
                                       "data": {"key": value}, "type": "Opaque"})
    everywhere = core.list_secret_for_all_namespaces(label_selector="testsecret-constant=true").items
    assert any(s.metadata.name == name for s in everywhere)
    patched_value = base64.b64encode(b"value1").decode()
    core.patch_namespaced_secret(name, ns, {"metadata": {"labels": {"testsecret": "true"}},
                                            "data": {"key": patched_value}})
    got = core.read_namespaced_secret(name, ns)
    assert got.data["key"] == patched_value and got.metadata.labels["testsecret"] == "true"
    core.delete_collection_namespaced_secret(ns, label_selector="testsecret-constant=true")
    everywhere = core.list_secret_for_all_namespaces(label_selector="testsecret-constant=true").items
    assert not any(s.metadata.name == name for s in everywhere)


@row("Secrets, with empty-key", release="v1.15", needs="API",
     codename="[sig-node] Secrets should fail to create secret due to empty secret key")
def test_secret_empty_key(core, ns):
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_secret(ns, {"metadata": {"name": "secret-emptykey-test"},
                                           "data": {"": base64.b64encode(b"value-1").decode()}})
    assert err.value.status == 422


@row("LimitRange, list, patch and delete a LimitRange by collection", release="v1.26", needs="API",
     codename="[sig-scheduling] LimitRange should list, patch and delete a LimitRange by collection")
def test_limitrange_list_patch_delete_collection(core, ns, request):
    other = ns + "-b"
    core.create_namespace({"metadata": {"name": other}})
    request.addfinalizer(lambda: core.delete_namespace(other))
    label = "e2e-limitrange-" + uuid.uuid4().hex[:5]
    spec = {"limits": [{"type": "Container", "min": {"cpu": "100m", "memory": "200Mi"},
                        "max": {"cpu": "500m", "memory": "500Mi"},
                        "default": {"cpu": "500m", "memory": "500Mi"},
                        "defaultRequest": {"cpu": "100m", "memory": "200Mi"},
                        "maxLimitRequestRatio": {"cpu": "5", "memory": "2.5"}}]}
    for n in (ns, other):
        core.create_namespaced_limit_range(n, {"metadata": {"name": "e2e-limitrange", "labels": {label: "true"}},
                                               "spec": spec})
    assert len(core.list_limit_range_for_all_namespaces(label_selector=f"{label}=true").items) == 2
    patched = core.patch_namespaced_limit_range("e2e-limitrange", ns, {
        "metadata": {"labels": {f"{label}-patched": "true"}},
        "spec": {"limits": [dict(spec["limits"][0], min={"cpu": "100m", "memory": "100Mi"})]}})
    assert patched.metadata.labels[f"{label}-patched"] == "true"
    assert patched.spec.limits[0].min["memory"] == "100Mi"
    core.delete_collection_namespaced_limit_range(ns, label_selector=f"{label}=true")
    left = core.list_limit_range_for_all_namespaces(label_selector=f"{label}=true").items
    assert [(l.metadata.namespace) for l in left] == [other]
