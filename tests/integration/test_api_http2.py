"""Writes and watches over HTTP/2 (client-go's transport) as well as HTTP/1.1."""
from __future__ import annotations

import threading
import time

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



def _h2_watches(server, path: str, streams: int, slow: set[int], writes_done: threading.Event,
                want: int, deadline: float) -> dict[int, list[tuple[str, str, int]]]:
    """`streams` watches of `path` on one HTTP/2 connection, read with the h2 library. The
    fast ones acknowledge what they read at once; the `slow` ones (indexes) acknowledge
    nothing until writes_done is set, so their flow-control windows (64 KiB) run out and
    the server must hold their events back. Returns each stream's events."""
    import socket
    import ssl

    import h2.config
    import h2.connection
    import h2.events

    host, port = server.url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10), server_hostname=host)
    assert sock.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.increment_flow_control_window(2**30)   # only the streams' own windows limit the server
    ids = []
    for _ in range(streams):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":authority", f"{host}:{port}"),
                                (":path", path), ("authorization", f"Bearer {server.token}"),
                                ("accept", "application/json")], end_stream=True)
        ids.append(sid)
    sock.sendall(conn.data_to_send())
    slow_ids = {ids[i] for i in slow}
    held: dict[int, int] = {sid: 0 for sid in slow_ids}   # bytes read but not yet acknowledged
    tails = {sid: b"" for sid in ids}
    events: dict[int, list] = {sid: [] for sid in ids}
    sock.settimeout(0.2)
    while any(len(events[sid]) < want for sid in ids) and time.monotonic() < deadline:
        if held and writes_done.is_set():
            for sid, n in held.items():
                conn.acknowledge_received_data(n, sid)
            held = {}
        try:
            data = sock.recv(1 << 16)
        except (socket.timeout, ssl.SSLWantReadError):
            data = None
        if data == b"":
            break
        for ev in conn.receive_data(data) if data else []:
            if isinstance(ev, h2.events.DataReceived):
                if ev.stream_id in held:
                    held[ev.stream_id] += ev.flow_controlled_length
                else:
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                lines = (tails[ev.stream_id] + ev.data).split(b"\n")
                tails[ev.stream_id] = lines.pop()
                for line in lines:
                    e = orjson.loads(line)
                    if e["type"] != "BOOKMARK":
                        meta = e["object"]["metadata"]
                        events[ev.stream_id].append((e["type"], meta["name"], int(meta["resourceVersion"])))
            elif isinstance(ev, h2.events.StreamReset):
                raise AssertionError(f"stream {ev.stream_id} reset: {ev.error_code}")
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    sock.close()
    return events


def test_watches_on_one_http2_connection_fast_and_slow_get_every_event_in_order(server, namespace):
    # Four watches multiplexed on one HTTP/2 connection, as client-go opens them. Three read
    # as events come (the server writes each event straight into the connection); one
    # acknowledges nothing until every write is done, so its window runs out and its later
    # events wait in the server's ordinary path, behind the ones already sent. Among the
    # small events, two are larger than an HTTP/2 frame (the ordinary path splits them).
    # Every watch must see every event exactly once, in order.
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    http = server.http_client()
    rv = http.get(base).json()["metadata"]["resourceVersion"]
    writes = 30
    expected = []
    writes_done = threading.Event()
    failures = []

    def write_all():
        try:
            for i in range(writes):
                name = f"h2o-{i}"
                if i % 3 == 2:   # MODIFIED events between the ADDED ones
                    name = f"h2o-{i - 1}"
                    r = http.patch(f"{base}/{name}", content=orjson.dumps({"data": {"n": str(i)}}),
                                   headers={"Content-Type": "application/merge-patch+json"})
                    expected.append(("MODIFIED", name))
                else:
                    filler = "x" * (20_000 if i in (10, 20) else 3_000)
                    r = http.post(base, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                              "data": {"filler": filler}})
                    expected.append(("ADDED", name))
                assert r.status_code in (200, 201), r.text
        except BaseException as e:   # reported by the test's thread
            failures.append(e)
        finally:
            writes_done.set()

    writer = threading.Thread(target=write_all, daemon=True)
    path = f"{base}?watch=true&resourceVersion={rv}&timeoutSeconds=60"
    # The writes start once the reader is in its loop (its streams are open before the first read).
    threading.Timer(0.5, writer.start).start()
    events = _h2_watches(server, path, 4, {3}, writes_done, writes, time.monotonic() + 60)
    writer.join(30)
    http.close()
    assert not failures, failures
    for got in events.values():
        assert [(kind, name) for kind, name, _ in got] == expected
        revisions = [v for _, _, v in got]
        assert revisions == sorted(set(revisions))
