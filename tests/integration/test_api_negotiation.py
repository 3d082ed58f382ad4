"""Content negotiation, discovery and health, as clients ask for them."""
from __future__ import annotations

import pytest
import yaml

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@pytest.fixture(scope="module")
def cms(admin_http):
    base = "/api/v1/namespaces/kube-public/configmaps"
    admin_http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "neg", "labels": {"n": "1"}},
                          "data": {"a": "b"}})
    return base


def test_yaml_in_and_out(admin_http, cms):
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n"
    r = admin_http.post(cms, content=body, headers={"content-type": "application/yaml", "accept": "application/yaml"})
    assert r.status_code == 201 and r.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(r.text)["data"] == {"k": "v"}


@pytest.mark.parametrize("include,expect", [("None", None), ("Metadata", "PartialObjectMetadata"),
                                            ("Object", "ConfigMap")])
def test_table_include_object(admin_http, cms, include, expect):
    r = admin_http.get(cms, params={"includeObject": include, "labelSelector": "n=1"}, headers={"accept": TABLE})
    table = r.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Data", "Age"]
    row = table["rows"][0]
    assert row["cells"][:2] == ["neg", 1]
    assert (row.get("object") or {}).get("kind") == expect


def test_table_of_one_object_and_v1beta1(admin_http, cms):
    r = admin_http.get(cms + "/neg", headers={"accept": "application/json;as=Table;v=v1beta1;g=meta.k8s.io"})
    assert r.json()["apiVersion"] == "meta.k8s.io/v1beta1" and len(r.json()["rows"]) == 1


def test_partial_object_metadata_list(admin_http, cms):
    r = admin_http.get(cms, headers={"accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"})
    body = r.json()
    assert body["kind"] == "PartialObjectMetadataList" and body["metadata"]["resourceVersion"]
    assert all(i["kind"] == "PartialObjectMetadata" and "data" not in i for i in body["items"])


def test_aggregated_discovery_by_accept(admin_http):
    for version in ("v2", "v2beta1"):
        accept = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList,application/json"
        r = admin_http.get("/apis", headers={"accept": accept})
        assert r.headers["content-type"] == \
            f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
        assert r.json()["kind"] == "APIGroupDiscoveryList"
    legacy = admin_http.get("/api", headers={"accept": "application/json"}).json()
    assert legacy["kind"] == "APIVersions" and legacy["versions"] == ["v1"]
    group = admin_http.get("/apis/coordination.k8s.io").json()
    assert group["kind"] == "APIGroup" and group["preferredVersion"]["version"] == "v1"
    assert admin_http.get("/apis/coordination.k8s.io/v1").json()["resources"][0]["name"] == "leases"


def test_version_and_verbose_health(admin_http):
    v = admin_http.get("/version").json()
    assert (v["major"], v["minor"]) == ("1", "33") and v["gitVersion"].startswith("v1.33")
    r = admin_http.get("/readyz", params={"verbose": ""})
    assert r.status_code == 200 and "[+]ping ok" in r.text and "[+]etcd ok" in r.text
    assert admin_http.get("/livez").text == "ok" and admin_http.get("/healthz/etcd").text == "ok"


def test_events_share_storage_between_versions(admin_http):
    core = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev1", "namespace": "kube-public"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "kube-public"}, "reason": "Tested",
            "message": "hello", "type": "Normal", "source": {"component": "tests"}}
    assert admin_http.post("/api/v1/namespaces/kube-public/events", json=core).status_code == 201
    v1 = admin_http.get("/apis/events.k8s.io/v1/namespaces/kube-public/events/ev1").json()
    assert v1["apiVersion"] == "events.k8s.io/v1" and v1["note"] == "hello" and v1["regarding"]["name"] == "p"
    sel = admin_http.get("/api/v1/namespaces/kube-public/events",
                   params={"fieldSelector": "involvedObject.name=p,reason=Tested"}).json()["items"]
    assert [e["metadata"]["name"] for e in sel] == ["ev1"]
