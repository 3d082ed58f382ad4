"""Writes and watches over HTTP/2 (client-go's transport) as well as HTTP/1.1."""
from __future__ import annotations

import orjson
import pytest


@pytest.fixture(scope="module", params=["h2", "http1.1"])
def http(server, request):
    h2 = request.param == "h2"
    with server.http_client(http2=h2, http1=not h2) as c:
        yield c


def test_post_body_arrives(http, namespace):
    # HEADERS and DATA in one packet: the body must not be dropped
    r = http.post(f"/api/v1/namespaces/{namespace}/configmaps",
                  json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "posted"}, "data": {"a": "b"}})
    assert r.status_code == 201, r.text
    assert r.json()["data"] == {"a": "b"}


def test_watch_streams_events_and_ends_at_timeout(http, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}})
    rv = http.get(base).json()["metadata"]["resourceVersion"]
    http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w2"}})
    events = []
    with http.stream("GET", base, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1",
                                          "allowWatchBookmarks": "true"}) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                events.append(orjson.loads(line))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events if e["type"] != "BOOKMARK"] == \
        [("ADDED", "w2")]


def test_table_watch_carries_columns_first(http, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    for name in ("t1", "t2"):
        http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    with http.stream("GET", base, params={"watch": "1", "timeoutSeconds": "1"}, headers={"accept": accept}) as r:
        events = [orjson.loads(line) for line in r.iter_lines() if line]
    assert [e["object"]["kind"] for e in events] == ["Table", "Table"]
    assert events[0]["object"]["columnDefinitions"][0]["name"] == "Name"
    assert not events[1]["object"]["columnDefinitions"]
    assert [e["object"]["rows"][0]["cells"][0] for e in events] == ["t1", "t2"]
