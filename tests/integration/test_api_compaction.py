"""A resourceVersion older than the compacted history: 410 Gone, in the forms clients handle."""
from __future__ import annotations

import ssl
import time

import httpx
import orjson
import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def compacting_server(tmp_path_factory):
    from tests.harness import running_server
    with running_server(tmp_path_factory.mktemp("compacting"),
                        extra_args=["--etcd-compaction-interval", "1s"]) as srv:
        ctx = ssl.create_default_context(cafile=str(srv.ca_file))
        with httpx.Client(base_url=srv.url, verify=ctx, http2=True, timeout=30,
                          headers={"Authorization": f"Bearer {srv.token}"}) as http:
            # more writes than the compactor keeps (1000 revisions), then wait for it
            cm = "/api/v1/namespaces/default/configmaps"
            http.post(cm, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "churn"}})
            for i in range(1100):
                r = http.patch(cm + "/churn", content=orjson.dumps({"data": {"i": str(i)}}),
                               headers={"content-type": "application/merge-patch+json"})
                assert r.status_code == 200, r.text
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                r = http.get(cm, params={"resourceVersion": "2", "resourceVersionMatch": "Exact"})
                if r.status_code == 410:
                    break
                time.sleep(0.2)
            else:
                pytest.fail("history was never compacted")
        yield srv


def test_list_at_a_compacted_version_is_410(compacting_server):
    ctx = ssl.create_default_context(cafile=str(compacting_server.ca_file))
    with httpx.Client(base_url=compacting_server.url, verify=ctx,
                      headers={"Authorization": f"Bearer {compacting_server.token}"}) as http:
        r = http.get("/api/v1/namespaces/default/configmaps",
                     params={"resourceVersion": "2", "resourceVersionMatch": "Exact"})
    assert r.status_code == 410
    assert (r.json()["reason"], r.json()["code"]) == ("Expired", 410)


def test_watch_from_a_compacted_version_is_an_error_event(compacting_server):
    api = config.new_client_from_config(config_file=str(compacting_server.kubeconfig))
    core = client.CoreV1Api(api)
    # the Python client turns the in-stream ERROR event with code 410 into ApiException(410)
    with pytest.raises(ApiException) as e:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version="2",
                                      timeout_seconds=5):
            pass
    assert e.value.status == 410
    api.close()
