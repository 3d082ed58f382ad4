"""[sig-api-machinery] version, discovery, tables, chunking, field validation."""
from __future__ import annotations

import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import raw_request, wait_for

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def _get(api, path, accept="application/json"):
    r = raw_request(api, "GET", path, headers={"Accept": accept})
    assert r.status == 200, (path, r.status, r.body[:300])
    return r.json(), r.headers


@row("Confirm a server version", release="v1.19", needs="API",
     codename="[sig-api-machinery] server version should find the server version")
def test_server_version(api):
    info = client.VersionApi(api).get_code()
    assert re.fullmatch(r"\d+", info.major), info.major
    assert re.fullmatch(r"\d+", info.minor), info.minor
    assert info.git_version


@row("Discovery, confirm the groupVersion and a resource from each apiGroup", release="v1.28", needs="API",
     codename="[sig-api-machinery] Discovery should locate the groupVersion and a resource within each APIGroup")
def test_discovery_group_version_and_resource_per_group(api):
    groups, _ = _get(api, "/apis")
    for group in groups["groups"]:
        for version in group["versions"]:
            resources, _ = _get(api, f"/apis/{version['groupVersion']}")
            assert resources["groupVersion"] == version["groupVersion"]
            assert any(r["name"] and r["kind"] and r["verbs"] is not None for r in resources["resources"])
    core, _ = _get(api, "/api/v1")
    assert core["groupVersion"] == "v1"
    assert any(r["name"] == "pods" for r in core["resources"])


@row("Discovery, confirm the PreferredVersion for each api group", release="v1.19", needs="API",
     codename="[sig-api-machinery] Discovery should validate PreferredVersion for each APIGroup")
def test_discovery_preferred_version(api):
    groups, _ = _get(api, "/apis")
    assert groups["groups"]
    for group in groups["groups"]:
        if group["name"].endswith("example.com"):
            continue
        preferred = group["preferredVersion"]
        assert preferred["groupVersion"] == f"{group['name']}/{preferred['version']}"
        assert preferred in group["versions"]
        alone, _ = _get(api, f"/apis/{group['name']}")
        assert alone["preferredVersion"] == preferred


def _aggregated_resources(doc) -> set[str]:
    out = set()
    for group in doc["items"]:
        name = group["metadata"].get("name", "")
        for version in group["versions"]:
            for res in version["resources"]:
                out.add(f"{name}/{version['version']}/{res['resource']}".lstrip("/"))
    return out


BUILT_INS = {"v1/pods", "v1/services", "v1/namespaces", "v1/configmaps", "v1/secrets", "v1/nodes",
             "coordination.k8s.io/v1/leases", "discovery.k8s.io/v1/endpointslices", "events.k8s.io/v1/events"}


@row("Aggregated Discovery Interface", release="v1.30", needs="API",
     codename="[sig-api-machinery] AggregatedDiscovery should support aggregated discovery interface")
def test_aggregated_discovery_interface(api):
    """The client's aggregated discovery (both documents, v2) lists every built-in resource."""
    core, headers = _get(api, "/api", AGGREGATED_V2 + "," + AGGREGATED_V2BETA1 + ",application/json")
    assert "apidiscovery.k8s.io" in headers["Content-Type"] and "v=v2" in headers["Content-Type"]
    groups, _ = _get(api, "/apis", AGGREGATED_V2 + "," + AGGREGATED_V2BETA1 + ",application/json")
    found = _aggregated_resources(core) | _aggregated_resources(groups)
    assert BUILT_INS <= found, BUILT_INS - found


@row("Aggregated Discovery Endpoint Accept Headers", release="v1.30", needs="API",
     codename="[sig-api-machinery] AggregatedDiscovery should support raw aggregated discovery endpoint Accept headers")
@pytest.mark.parametrize("accept", [AGGREGATED_V2, AGGREGATED_V2BETA1])
def test_aggregated_discovery_accept_headers(api, accept):
    found = set()
    for path in ("/api", "/apis"):
        doc, headers = _get(api, path, accept)
        assert doc["kind"] == "APIGroupDiscoveryList"
        assert doc["apiVersion"] == "apidiscovery.k8s.io/" + accept.split("v=")[1].split(";")[0]
        found |= _aggregated_resources(doc)
    assert BUILT_INS <= found, BUILT_INS - found


@row("API metadata HTTP return", release="v1.16", needs="API",
     codename="[sig-api-machinery] Servers with support for Table transformation should return a 406 for a backend which does not implement metadata")
def test_table_406_for_backend_without_metadata(api):
    """POST a SelfSubjectAccessReview asking for a Table back: 406."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}}
    r = raw_request(api, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=json.dumps(body),
                    headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io",
                             "Content-Type": "application/json"})
    assert r.status == 406, (r.status, r.body[:300])


TOTAL = 400


def _create_templates(core, ns):
    template = {"containers": [{"name": "test", "image": "localhost/busybox"}]}
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: core.create_namespaced_pod_template(
            ns, {"metadata": {"name": f"template-{i:04d}"}, "template": {"spec": template}}), range(TOTAL)))


@row("API Chunking, server should return chunks of results for list calls", release="v1.29", needs="API",
     codename="[sig-api-machinery] Servers with support for API chunking should return chunks of results for list calls")
def test_chunking_returns_chunks(core, ns):
    _create_templates(core, ns)
    for _ in range(3):
        found, last_rv, cont = 0, "", None
        while True:
            limit = random.randint(1, TOTAL // 10)
            page = core.list_namespaced_pod_template(ns, limit=limit, _continue=cont)
            assert len(page.items) <= limit
            last_rv = last_rv or page.metadata.resource_version
            assert page.metadata.resource_version == last_rv
            if page.metadata._continue:
                assert page.metadata.remaining_item_count is not None
                assert page.metadata.remaining_item_count + len(page.items) + found == TOTAL
            else:
                assert page.metadata.remaining_item_count is None
            for item in page.items:
                assert item.metadata.name == f"template-{found:04d}"
                found += 1
            if not page.metadata._continue:
                break
            cont = page.metadata._continue
        assert found == TOTAL
    everything = core.list_namespaced_pod_template(ns, limit=TOTAL + 1)
    assert len(everything.items) == TOTAL


@row("API Chunking, server should support continue listing from the last key even if the original version has been compacted away",
     release="v1.29", needs="API",
     codename="[sig-api-machinery] Servers with support for API chunking should support continue listing from the last key if the original version has been compacted away, though the list is inconsistent [Slow]")
@pytest.mark.slow
def test_chunking_continue_after_compaction(core, ns):
    _create_templates(core, ns)
    one_tenth = TOTAL // 10
    first = core.list_namespaced_pod_template(ns, limit=one_tenth)
    assert len(first.items) == one_tenth and first.metadata.remaining_item_count == TOTAL - one_tenth
    first_rv = first.metadata.resource_version

    def expired():
        try:
            core.list_namespaced_pod_template(ns, limit=one_tenth, _continue=first.metadata._continue)
            return None
        except client.ApiException as e:
            assert e.status == 410, e
            return json.loads(e.body)["metadata"]["continue"]

    # upstream waits for the etcd compaction (every 5 minutes) to expire the token
    inconsistent = wait_for(expired, timeout=400, interval=1, what="the continue token to expire")
    second = core.list_namespaced_pod_template(ns, limit=one_tenth, _continue=inconsistent)
    assert len(second.items) == one_tenth
    assert second.metadata.resource_version != first_rv
    assert second.metadata._continue
    assert second.metadata.remaining_item_count == TOTAL - 2 * one_tenth
    found = 2 * one_tenth
    cont, rv = second.metadata._continue, second.metadata.resource_version
    while cont:
        page = core.list_namespaced_pod_template(ns, limit=one_tenth, _continue=cont)
        assert len(page.items) <= one_tenth and page.metadata.resource_version == rv
        found += len(page.items)
        cont = page.metadata._continue
    assert found == TOTAL


@row("Server side field validation, typed object", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should detect unknown and duplicate fields of a typed object")
def test_field_validation_typed_object(api, ns):
    body = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-dep","labels":{"app":"nginx"}},'
            '"spec":{"unknownField":"foo","replicas":2,"replicas":3,"selector":{"matchLabels":{"app":"nginx"}},'
            '"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}}}')
    r = raw_request(api, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body=body,
                    query={"fieldManager": "field_validation_mgr", "fieldValidation": "Strict"},
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert 'strict decoding error: unknown field "spec.unknownField", duplicate field "spec.replicas"' in \
        json.loads(r.body)["message"]


@row("Server side field validation, typed unknown metadata", release="v1.27", needs="API",
     codename="[sig-api-machinery] FieldValidation should detect unknown metadata fields of a typed object")
def test_field_validation_typed_unknown_metadata(api, ns):
    body = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"my-dep","unknownMeta":"foo",'
            '"labels":{"app":"nginx"}},"spec":{"selector":{"matchLabels":{"app":"nginx"}},'
            '"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}}}')
    r = raw_request(api, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body=body,
                    query={"fieldValidation": "Strict"}, headers={"Content-Type": "application/json"})
    assert r.status == 400 and 'unknown field "metadata.unknownMeta"' in json.loads(r.body)["message"]
