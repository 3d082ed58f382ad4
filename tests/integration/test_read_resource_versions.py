"""GET and LIST with a resourceVersion, as upstream's api-concepts "Semantics for get and list":
"0" is any version the server has (answered from the watch cache, no store round trip), N is
"not older than N" (a future N: 504), Exact N is that snapshot, and a limit with N and no match
is the legacy Exact. Driven by the official Python client and kubectl, on SQLite and etcd."""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.conformance.support import wait_for
from tests.integration.test_metrics_apiserver import scrape, value


def _template(name: str, **annotations) -> client.V1PodTemplate:
    return client.V1PodTemplate(
        metadata=client.V1ObjectMeta(name=name, annotations=annotations or None),
        template=client.V1PodTemplateSpec(spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="localhost/busybox")])))


def _get(api_client, namespace: str, name: str, rv: str) -> dict:
    """GET through the official client's transport (its read_* methods send no resourceVersion);
    ApiException on an error answer, as the typed methods raise it."""
    req = api_client.param_serialize("GET", f"/api/v1/namespaces/{namespace}/podtemplates/{name}",
                                     query_params=[("resourceVersion", rv)],
                                     header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    resp = api_client.call_api(*req)
    resp.read()
    return api_client.response_deserialize(resp, {"200": "object"}).data


def _store_reads(kubectl) -> float:
    s = scrape(kubectl)
    return sum(value(s, "etcd_request_duration_seconds_count", operation=op, type="podtemplates")
               for op in ("get", "list"))


def test_resource_version_0_is_answered_from_the_watch_cache(namespace, api_client, kubectl):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod_template(namespace, _template("any"))
    # "any" may be older than the create: wait until the cache has it
    wait_for(lambda: [t for t in core.list_namespaced_pod_template(namespace, resource_version="0").items
                      if t.metadata.name == "any"], timeout=15.0, interval=0.05,
             what="the template in a resourceVersion=0 list")

    before = _store_reads(kubectl)
    for _ in range(10):
        got = _get(api_client, namespace, "any", "0")
        assert got["metadata"]["name"] == "any" and int(got["metadata"]["resourceVersion"]) > 0
    listed = core.list_namespaced_pod_template(namespace, resource_version="0",
                                               resource_version_match="NotOlderThan")
    assert [t.metadata.name for t in listed.items] == ["any"] and int(listed.metadata.resource_version) > 0
    raw = json.loads(kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/podtemplates/any?resourceVersion=0")
                     .stdout)
    assert raw["kind"] == "PodTemplate" and raw["metadata"]["name"] == "any"
    raw = json.loads(kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/podtemplates?resourceVersion=0")
                     .stdout)
    assert [i["metadata"]["name"] for i in raw["items"]] == ["any"]
    with pytest.raises(ApiException) as e:
        _get(api_client, namespace, "missing", "0")
    assert e.value.status == 404
    assert _store_reads(kubectl) == before   # none of these reached the store


def test_not_older_than_sees_the_clients_own_writes(namespace, api_client):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod_template(namespace, _template("mine"))
    for i in range(15):
        written = core.patch_namespaced_pod_template("mine", namespace, {"metadata": {"annotations": {"n": str(i)}}})
        rv = written.metadata.resource_version
        got = _get(api_client, namespace, "mine", rv)   # at once: the cache may not have it yet
        assert got["metadata"]["annotations"]["n"] == str(i) and int(got["metadata"]["resourceVersion"]) >= int(rv)
        listed = core.list_namespaced_pod_template(namespace, resource_version=rv,
                                                   resource_version_match="NotOlderThan")
        assert int(listed.metadata.resource_version) >= int(rv)
        assert [t.metadata.annotations["n"] for t in listed.items] == [str(i)]


def test_future_resource_version_is_a_timeout(namespace, api_client):
    core = client.CoreV1Api(api_client)
    rv = int(core.create_namespaced_pod_template(namespace, _template("soon")).metadata.resource_version)
    future = str(rv + 1_000_000)
    with pytest.raises(ApiException) as e:
        _get(api_client, namespace, "soon", future)
    assert e.value.status == 504 and "Too large resource version" in json.loads(e.value.body)["message"]
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod_template(namespace, resource_version=future, resource_version_match="NotOlderThan")
    assert e.value.status == 504


def test_paged_list_at_any_version_continues_on_its_snapshot(namespace, api_client):
    core = client.CoreV1Api(api_client)
    names = [f"p{i}" for i in range(5)]
    for n in names:
        core.create_namespaced_pod_template(namespace, _template(n))
    wait_for(lambda: len(core.list_namespaced_pod_template(namespace, resource_version="0").items) == 5,
             timeout=15.0, interval=0.05, what="five templates in a resourceVersion=0 list")
    page = core.list_namespaced_pod_template(namespace, resource_version="0", limit=2)
    seen, rvs = [t.metadata.name for t in page.items], {page.metadata.resource_version}
    assert len(seen) == 2 and page.metadata._continue and page.metadata.remaining_item_count == 3
    core.create_namespaced_pod_template(namespace, _template("p9"))   # after the snapshot: not listed
    while page.metadata._continue:
        page = core.list_namespaced_pod_template(namespace, limit=2, _continue=page.metadata._continue)
        seen += [t.metadata.name for t in page.items]
        rvs.add(page.metadata.resource_version)
    assert seen == names and len(rvs) == 1


def test_exact_and_the_legacy_limit_rule_read_the_old_snapshot(namespace, api_client):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod_template(namespace, _template("a"))
    then = core.list_namespaced_pod_template(namespace).metadata.resource_version
    now = core.create_namespaced_pod_template(namespace, _template("b")).metadata.resource_version

    def names(**kw):
        return [t.metadata.name for t in core.list_namespaced_pod_template(namespace, **kw).items]
    assert names(resource_version=then, resource_version_match="Exact") == ["a"]
    assert names(resource_version=then, limit=10) == ["a"]   # a limit and no match: Exact
    assert names(resource_version=now, resource_version_match="NotOlderThan", limit=10) == ["a", "b"]
    assert names(resource_version=now) == ["a", "b"]         # no limit: not older than


@pytest.mark.parametrize("query, message", [
    ({"resource_version": "0", "resource_version_match": "Exact"},
     'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    ({"resource_version": "5", "resource_version_match": "NotOlderThan", "_continue": "abc"},
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"),
])
def test_invalid_resource_version_matches(namespace, api_client, query, message):
    with pytest.raises(ApiException) as e:
        client.CoreV1Api(api_client).list_namespaced_pod_template(namespace, **query)
    status = json.loads(e.value.body)
    assert e.value.status == 422 and status["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert status["details"]["causes"][0]["field"] == "resourceVersionMatch"


def test_bad_get_resource_version_is_a_bad_request(namespace, api_client):
    with pytest.raises(ApiException) as e:
        _get(api_client, namespace, "whatever", "abc")
    assert e.value.status == 400 and 'invalid resource version "abc"' in json.loads(e.value.body)["message"]
