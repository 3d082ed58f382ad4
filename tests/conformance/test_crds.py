"""[sig-api-machinery] CustomResourceDefinitions: the CRD API, custom resources
served from them, their discovery, OpenAPI and field validation."""
from __future__ import annotations

import json
import uuid

from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import raw_request, wait_for

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "description": "Specification of Foo", "properties": {
        "bars": {"type": "array", "description": "List of Bars and their specs.", "items": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "description": "Name of Bar."},
                "age": {"type": "string", "description": "Age of Bar."},
                "bazs": {"type": "array", "items": {"type": "string"}, "description": "List of Bazs."}}}}}},
    "status": {"type": "object", "description": "Status of Foo", "properties": {
        "bars": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "available": {"type": "boolean"}}}}}},
}}


def _group() -> str:
    return f"e2e-{uuid.uuid4().hex[:6]}.example.com"


def _crd_body(group: str, kind: str = "E2eTestCrd", versions=(("v1", SCHEMA),), scope: str = "Cluster",
              labels: dict | None = None, status: bool = False) -> dict:
    plural = kind.lower() + "s"
    vers = [{"name": v, "served": True, "storage": i == 0, "schema": {"openAPIV3Schema": s},
             **({"subresources": {"status": {}}} if status else {})} for i, (v, s) in enumerate(versions)]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": labels or {}},
            "spec": {"group": group, "scope": scope, "versions": vers,
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                               "listKind": kind + "List"}}}


def _established(ext, name: str) -> dict:
    def check():
        crd = ext.api_client.sanitize_for_serialization(ext.read_custom_resource_definition(name))
        conds = {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions") or []}
        return crd if conds.get("Established") == "True" else None
    return wait_for(check, what=f"CRD {name} Established")


def _create(api, body: dict) -> dict:
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(body)
    return _established(ext, body["metadata"]["name"])


def _delete(api, name: str) -> None:
    ext = client.ApiextensionsV1Api(api)
    ext.delete_custom_resource_definition(name)

    def gone():
        try:
            ext.read_custom_resource_definition(name)
            return False
        except client.ApiException as e:
            return e.status == 404
    wait_for(gone, what=f"CRD {name} deleted")


def _openapi_v2(api) -> dict:
    r = raw_request(api, "GET", "/openapi/v2")
    assert r.status == 200
    return r.json()


def _definition(group: str, version: str, kind: str) -> str:
    return ".".join(reversed(group.split("."))) + f".{version}.{kind}"


@row("Custom Resource Definition, create", release="v1.9", needs="API",
     codename="[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple "
              "CustomResourceDefinition creating/deleting custom resource definition objects works")
def test_crd_create_and_delete(api):
    body = _crd_body(_group())
    created = _create(api, body)
    assert created["metadata"]["name"] == body["metadata"]["name"]
    _delete(api, body["metadata"]["name"])


@row("Custom Resource Definition, list", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple "
              "CustomResourceDefinition listing custom resource definition objects works")
def test_crd_list(api):
    ext = client.ApiextensionsV1Api(api)
    label = f"e2e-list-test-{uuid.uuid4().hex[:6]}"
    names = []
    for _ in range(5):
        body = _crd_body(_group(), labels={label: "true"})
        _create(api, body)
        names.append(body["metadata"]["name"])
    listed = ext.list_custom_resource_definition(label_selector=f"{label}=true")
    assert sorted(i.metadata.name for i in listed.items) == sorted(names)
    ext.delete_collection_custom_resource_definition(label_selector=f"{label}=true")
    wait_for(lambda: not ext.list_custom_resource_definition(label_selector=f"{label}=true").items,
             what="CRDs deleted by collection")


@row("Custom Resource Definition, status sub-resource", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple "
              "CustomResourceDefinition getting/updating/patching custom resource definition status "
              "sub-resource works")
def test_crd_status_subresource(api):
    ext = client.ApiextensionsV1Api(api)
    body = _crd_body(_group())
    name = body["metadata"]["name"]
    _create(api, body)
    got = ext.read_custom_resource_definition_status(name)
    assert got.metadata.name == name
    got.status.conditions.append(client.V1CustomResourceDefinitionCondition(
        type="StatusUpdated", status="True", reason="E2E", message="Set from e2e test"))
    updated = ext.replace_custom_resource_definition_status(name, got)
    assert any(c.type == "StatusUpdated" for c in updated.status.conditions)
    patched = ext.patch_custom_resource_definition_status(name, {"status": {"conditions": [
        *[api.sanitize_for_serialization(c) for c in updated.status.conditions],
        {"type": "StatusPatched", "status": "True", "reason": "E2E", "message": "Set from e2e test"}]}})
    assert any(c.type == "StatusPatched" for c in patched.status.conditions)
    _delete(api, name)


@row("Custom Resource Definition, discovery", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] should include "
              "custom resource definition resources in discovery documents")
def test_crd_discovery(api):
    groups = raw_request(api, "GET", "/apis").json()["groups"]
    ext = next(g for g in groups if g["name"] == "apiextensions.k8s.io")
    assert {"groupVersion": "apiextensions.k8s.io/v1", "version": "v1"} in ext["versions"]
    assert ext["preferredVersion"]["groupVersion"] == "apiextensions.k8s.io/v1"
    group = raw_request(api, "GET", "/apis/apiextensions.k8s.io").json()
    assert group["preferredVersion"]["version"] == "v1"
    resources = raw_request(api, "GET", "/apis/apiextensions.k8s.io/v1").json()["resources"]
    assert any(r["name"] == "customresourcedefinitions" for r in resources)


@row("Custom Resource Definition, defaulting", release="v1.17", needs="API",
     codename="[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] custom resource "
              "defaulting for requests and from storage works")
def test_crd_defaulting(api):
    group = _group()
    schema = {"type": "object", "properties": {"a": {"type": "string", "default": "A"},
                                               "b": {"type": "string"}}}
    body = _crd_body(group, versions=(("v1", schema),))
    _create(api, body)
    custom = client.CustomObjectsApi(api)
    obj = custom.create_cluster_custom_object(group, "v1", "e2etestcrds", {
        "apiVersion": f"{group}/v1", "kind": "E2eTestCrd", "metadata": {"name": "defaulted"}})
    assert obj["a"] == "A" and "b" not in obj   # defaulted on the request
    ext = client.ApiextensionsV1Api(api)
    ext.patch_custom_resource_definition(body["metadata"]["name"], [{
        "op": "add", "path": "/spec/versions/0/schema/openAPIV3Schema/properties/b/default", "value": "B"}])
    wait_for(lambda: custom.get_cluster_custom_object(group, "v1", "e2etestcrds", "defaulted").get("b") == "B",
             what="the new default applied when read from storage")
    _delete(api, body["metadata"]["name"])


@row("Custom Resource OpenAPI Publish, with validation schema", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for CRD with "
              "validation schema")
def test_publish_openapi_with_schema(api, kubectl, ns):
    group = _group()
    body = _crd_body(group, kind="E2eTestFoo", scope="Namespaced")
    _create(api, body)
    definition = _definition(group, "v1", "E2eTestFoo")
    wait_for(lambda: definition in _openapi_v2(api)["definitions"], what="the definition published")
    valid = {"apiVersion": f"{group}/v1", "kind": "E2eTestFoo", "metadata": {"name": "test-foo"},
             "spec": {"bars": [{"name": "test-bar"}]}}
    kubectl("create", "-n", ns, "-f", "-", input=json.dumps(valid))
    kubectl("delete", "-n", ns, "e2etestfoos", "test-foo")
    unknown = dict(valid, spec={"bars": [{"name": "test-bar", "unknown": "x"}]})
    cp = kubectl("create", "-n", ns, "-f", "-", input=json.dumps(unknown), check=False)
    assert cp.returncode != 0 and 'unknown field "spec.bars[0].unknown"' in cp.stderr
    missing = dict(valid, spec={"bars": [{"age": "10"}]})
    cp = kubectl("create", "-n", ns, "-f", "-", input=json.dumps(missing), check=False)
    assert cp.returncode != 0 and "spec.bars[0].name: Required value" in cp.stderr
    explain = kubectl("explain", "e2etestfoos").stdout
    assert "Specification of Foo" in explain and "Status of Foo" in explain
    explain = kubectl("explain", "e2etestfoos.spec.bars").stdout
    assert "List of Bars and their specs." in explain and "Name of Bar." in explain
    cp = kubectl("explain", "e2etestfoos.spec.bars2", check=False)
    assert cp.returncode != 0
    _delete(api, body["metadata"]["name"])


@row("Custom Resource OpenAPI Publish, with x-kubernetes-preserve-unknown-fields at root", release="v1.16",
     needs="API", codename="[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for "
                           "CRD preserving unknown fields at the schema root")
def test_publish_openapi_preserve_unknown_root(api, kubectl, ns):
    group = _group()
    body = _crd_body(group, kind="E2eTestWaldo", versions=(("v1", PRESERVE),), scope="Namespaced")
    _create(api, body)
    anything = {"apiVersion": f"{group}/v1", "kind": "E2eTestWaldo", "metadata": {"name": "test-cr"},
                "a": {"b": [{"c": "d"}]}}
    kubectl("create", "-n", ns, "-f", "-", input=json.dumps(anything))
    got = json.loads(kubectl("get", "-n", ns, "e2etestwaldos", "test-cr", "-o", "json").stdout)
    assert got["a"] == {"b": [{"c": "d"}]}
    assert "E2eTestWaldo" in kubectl("explain", "e2etestwaldos").stdout
    _delete(api, body["metadata"]["name"])


@row("Custom Resource OpenAPI Publish, varying groups", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] works for multiple "
              "CRDs of different groups")
def test_publish_openapi_different_groups(api):
    a, b = _crd_body(_group(), kind="E2eTestFoo"), _crd_body(_group(), kind="E2eTestBar")
    _create(api, a)
    _create(api, b)
    defs = _openapi_v2(api)["definitions"]
    assert _definition(a["spec"]["group"], "v1", "E2eTestFoo") in defs
    assert _definition(b["spec"]["group"], "v1", "E2eTestBar") in defs
    _delete(api, a["metadata"]["name"])
    _delete(api, b["metadata"]["name"])


@row("Custom Resource OpenAPI Publish, version rename", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] updates the published "
              "spec when one version gets renamed")
def test_publish_openapi_version_rename(api):
    group = _group()
    body = _crd_body(group, versions=(("v2", SCHEMA), ("v3", SCHEMA)))
    _create(api, body)
    ext = client.ApiextensionsV1Api(api)
    ext.patch_custom_resource_definition(body["metadata"]["name"], [
        {"op": "replace", "path": "/spec/versions/1/name", "value": "v4"}])
    wait_for(lambda: _definition(group, "v4", "E2eTestCrd") in _openapi_v2(api)["definitions"],
             what="the renamed version published")
    defs = _openapi_v2(api)["definitions"]
    assert _definition(group, "v3", "E2eTestCrd") not in defs and _definition(group, "v2", "E2eTestCrd") in defs
    _delete(api, body["metadata"]["name"])


@row("Custom Resource OpenAPI Publish, stop serving version", release="v1.16", needs="API",
     codename="[sig-api-machinery] CustomResourcePublishOpenAPI [Privileged:ClusterAdmin] removes definition "
              "from spec when one version gets changed to not be served")
def test_publish_openapi_stop_serving(api):
    group = _group()
    body = _crd_body(group, versions=(("v5", SCHEMA), ("v6alpha1", SCHEMA)))
    _create(api, body)
    ext = client.ApiextensionsV1Api(api)
    ext.patch_custom_resource_definition(body["metadata"]["name"], [
        {"op": "replace", "path": "/spec/versions/1/served", "value": False}])
    wait_for(lambda: _definition(group, "v6alpha1", "E2eTestCrd") not in _openapi_v2(api)["definitions"],
             what="the unserved version unpublished")
    assert _definition(group, "v5", "E2eTestCrd") in _openapi_v2(api)["definitions"]
    _delete(api, body["metadata"]["name"])


def _aggregated_has(api, group: str, plural: str) -> bool:
    r = raw_request(api, "GET", "/apis", headers={"Accept": AGGREGATED_V2})
    assert r.headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    for item in r.json()["items"]:
        if item["metadata"]["name"] == group:
            return any(res["resource"] == plural for v in item["versions"] for res in v["resources"])
    return False


@row("Aggregated Discovery Interface CRDs", release="v1.30", needs="API",
     codename="[sig-api-machinery] AggregatedDiscovery should support aggregated discovery interface for CRDs")
def test_aggregated_discovery_crds(api):
    body = _crd_body(_group(), kind="E2eTestNoxu")
    _create(api, body)
    wait_for(lambda: _aggregated_has(api, body["spec"]["group"], "e2etestnoxus"), what="the CRD in discovery")
    _delete(api, body["metadata"]["name"])
    wait_for(lambda: not _aggregated_has(api, body["spec"]["group"], "e2etestnoxus"),
             what="the CRD gone from discovery")


@row("Aggregated Discovery Endpoint Accept Headers CRDs", release="v1.30", needs="API",
     codename="[sig-api-machinery] AggregatedDiscovery should support raw aggregated discovery request for CRDs")
def test_aggregated_discovery_raw_crds(api):
    body = _crd_body(_group(), kind="E2eTestNoxu")
    _create(api, body)
    for accept in (AGGREGATED_V2, "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"):
        r = raw_request(api, "GET", "/apis", headers={"Accept": accept})
        assert r.status == 200
        groups = [i["metadata"]["name"] for i in r.json()["items"]]
        assert body["spec"]["group"] in groups
    _delete(api, body["metadata"]["name"])


def _post_cr(api, group: str, plural: str, body: str, ns: str | None = None, **query):
    path = f"/apis/{group}/v1" + (f"/namespaces/{ns}" if ns else "") + f"/{plural}"
    return raw_request(api, "POST", path, body=body, query={"fieldValidation": "Strict", **query},
                       headers={"Content-Type": "application/json"})


@row("Server side field validation, unknown fields CR no validation schema", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should create/apply a CR with unknown fields for CRD with no "
              "validation schema")
def test_field_validation_cr_no_schema(api):
    group = _group()
    body = _crd_body(group, versions=(("v1", PRESERVE),))
    _create(api, body)
    r = _post_cr(api, group, "e2etestcrds", json.dumps({"apiVersion": f"{group}/v1", "kind": "E2eTestCrd",
                                                        "metadata": {"name": "cr"}, "spec": {"foo": "bar"}}))
    assert r.status == 201, r.body
    assert r.json()["spec"] == {"foo": "bar"}
    _delete(api, body["metadata"]["name"])


@row("Server side field validation, valid CR with validation schema", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should create/apply a valid CR for CRD with validation schema")
def test_field_validation_valid_cr(api):
    group = _group()
    body = _crd_body(group)
    _create(api, body)
    r = _post_cr(api, group, "e2etestcrds", json.dumps({
        "apiVersion": f"{group}/v1", "kind": "E2eTestCrd", "metadata": {"name": "cr"},
        "spec": {"bars": [{"name": "test-bar"}]}}))
    assert r.status == 201, r.body
    _delete(api, body["metadata"]["name"])


@row("Server side field validation, unknown fields CR fails validation", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should create/apply an invalid CR with extra properties for "
              "CRD with validation schema")
def test_field_validation_invalid_cr(api):
    group = _group()
    body = _crd_body(group)
    _create(api, body)
    r = _post_cr(api, group, "e2etestcrds", json.dumps({
        "apiVersion": f"{group}/v1", "kind": "E2eTestCrd", "metadata": {"name": "cr"},
        "spec": {"bars": [{"name": "test-bar", "hostPort": 8080}], "foo": "x"}}))
    assert r.status == 400, r.body
    text = r.json()["message"]
    assert 'unknown field "spec.bars[0].hostPort"' in text and 'unknown field "spec.foo"' in text
    _delete(api, body["metadata"]["name"])


@row("Server side field validation, unknown metadata", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should detect unknown metadata fields in both the root and "
              "embedded object of a CR")
def test_field_validation_cr_unknown_metadata(api):
    group = _group()
    embedded = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "template": {"type": "object", "x-kubernetes-embedded-resource": True, "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}}}
    body = _crd_body(group, versions=(("v1", embedded),))
    _create(api, body)
    r = _post_cr(api, group, "e2etestcrds", json.dumps({
        "apiVersion": f"{group}/v1", "kind": "E2eTestCrd", "metadata": {"name": "cr", "unknownMeta": "foo"},
        "spec": {"template": {"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": "p", "unknownSubMeta": "foo"}, "spec": {}}}}))
    assert r.status == 400, r.body
    text = r.json()["message"]
    assert 'unknown field "metadata.unknownMeta"' in text
    assert 'unknown field "spec.template.metadata.unknownSubMeta"' in text
    _delete(api, body["metadata"]["name"])


@row("Server side field validation, CR duplicates", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should detect duplicates in a CR when preserving unknown "
              "fields")
def test_field_validation_cr_duplicates(api):
    group = _group()
    body = _crd_body(group, versions=(("v1", PRESERVE),))
    _create(api, body)
    raw = ('{"apiVersion":"%s/v1","kind":"E2eTestCrd","metadata":{"name":"cr"},'
           '"spec":{"foo":"a","foo":"b","bars":[{"name":"x"}]}}' % group)
    r = _post_cr(api, group, "e2etestcrds", raw)
    assert r.status == 400, r.body
    assert 'duplicate field "spec.foo"' in r.json()["message"]
    _delete(api, body["metadata"]["name"])
