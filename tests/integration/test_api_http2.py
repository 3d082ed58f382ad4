"""Writes and watches over HTTP/2 (client-go's transport) as well as HTTP/1.1."""
from __future__ import annotations

import threading

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


def _watch_lines(http, path: str, params: dict, want: int, ready: threading.Event, start_reading: threading.Event,
                 out: list) -> None:
    """Read one watch until `want` non-bookmark events came (or the watch's timeout ended it)."""
    with http.stream("GET", path, params=params) as r:
        assert r.status_code == 200
        ready.set()
        start_reading.wait(60)
        for line in r.iter_lines():
            if not line:
                continue
            event = orjson.loads(line)
            if event["type"] != "BOOKMARK":
                out.append((event["type"], event["object"]["metadata"]["name"],
                            int(event["object"]["metadata"]["resourceVersion"])))
            if len(out) >= want:
                return


def test_watches_on_one_connection_get_every_event_in_order_fast_or_slow(http, namespace):
    # Several watches of one collection on one client (over HTTP/2: streams of one
    # connection, as client-go multiplexes them). The fast ones read as events come (the
    # server writes each event straight to them); the slow one reads nothing until every
    # write is done, so its window (HTTP/2) or socket fills and later events wait in the
    # server's ordinary path. Each must see every event exactly once, in order.
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    rv = http.get(base).json()["metadata"]["resourceVersion"]
    writes = 12
    params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "60"}
    go = threading.Event()
    go.set()
    slow_go = threading.Event()
    readers = []
    for slow in (False, False, False, True):
        ready, out = threading.Event(), []
        t = threading.Thread(target=_watch_lines, daemon=True,
                             args=(http, base, params, writes, ready, slow_go if slow else go, out))
        t.start()
        readers.append((t, ready, out))
    for _, ready, _ in readers:
        assert ready.wait(30)
    filler = "x" * 20_000   # 12 events of ~20 KB: more than a stream's initial 64 KiB window
    expected = []
    for i in range(writes):
        name = f"ordered-{i}"
        if i % 3 == 2:   # modify an earlier one: MODIFIED events between the ADDED ones
            name = f"ordered-{i - 1}"
            r = http.patch(f"{base}/{name}", content=orjson.dumps({"data": {"n": str(i)}}),
                           headers={"Content-Type": "application/merge-patch+json"})
            expected.append(("MODIFIED", name))
        else:
            r = http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                      "data": {"filler": filler}})
            expected.append(("ADDED", name))
        assert r.status_code in (200, 201), r.text
    slow_go.set()
    for t, _, out in readers:
        t.join(60)
        assert not t.is_alive()
        assert [(kind, name) for kind, name, _ in out] == expected
        revisions = [v for _, _, v in out]
        assert revisions == sorted(set(revisions))
