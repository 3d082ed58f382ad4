"""Many streams on one HTTP/2 connection, as client-go multiplexes them (issue 20).

A raw h2 client (the `h2` library over one TLS socket) stands in for client-go: it
opens 1,000 watches on one connection, the limit kube-apiserver advertises, and every
one of them must get the event; a stream over the limit is refused alone (the
connection lives on); cancelled watches must not use up the connection.
"""
from __future__ import annotations

import collections
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest

WATCHES = 1000
DEADLINE_S = 120   # generous bound for a loaded 2-core machine; the test ends as soon as all are seen


class H2Client:
    """One HTTP/2 connection, driven by hand: send requests, pump events into per-stream state."""

    def __init__(self, server):
        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", server.port))
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        assert self.sock.selected_alpn_protocol() == "h2"
        self.sock.settimeout(1)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        # A watch is quiet for long stretches: give every stream room, so flow control never stalls one.
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**24})
        self.flush()
        self.token = server.token
        self.status: dict[int, int] = {}
        self.body: dict[int, bytearray] = collections.defaultdict(bytearray)
        self.resets: dict[int, int] = {}
        self.terminated = None
        self.settings_seen = None

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def get(self, path: str) -> int:
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1"),
                                     (":path", path), ("authorization", f"Bearer {self.token}")], end_stream=True)
        return sid

    def pump(self) -> None:
        try:
            data = self.sock.recv(1 << 20)
        except (socket.timeout, ssl.SSLWantReadError):
            return
        if not data:
            raise ConnectionError("the server closed the connection")
        for ev in self.conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                self.status[ev.stream_id] = int(dict(ev.headers)[":status"])
            elif isinstance(ev, h2.events.DataReceived):
                self.body[ev.stream_id].extend(ev.data)
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                self.resets[ev.stream_id] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.terminated = ev
            elif isinstance(ev, h2.events.RemoteSettingsChanged):
                self.settings_seen = {k: v.new_value for k, v in ev.changed_settings.items()}
        self.flush()

    def pump_until(self, done, what: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            assert self.terminated is None, f"the server ended the connection: {self.terminated}"
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            self.pump()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def h2client(server):
    c = H2Client(server)
    yield c
    c.close()


def _create_configmap(admin_http, namespace: str, name: str) -> None:
    r = admin_http.post(f"/api/v1/namespaces/{namespace}/configmaps",
                        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    assert r.status_code == 201, r.text


def test_thousand_watches_on_one_connection(h2client, admin_http, namespace):
    c = h2client
    c.pump_until(lambda: c.settings_seen is not None, "the server's SETTINGS")
    assert c.settings_seen[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 1000

    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=true"
    watches = [c.get(path) for _ in range(WATCHES)]
    c.flush()
    c.pump_until(lambda: all(sid in c.status for sid in watches), "1,000 watch responses")
    assert {c.status[sid] for sid in watches} == {200}

    _create_configmap(admin_http, namespace, "seen-by-all")
    c.pump_until(lambda: all(b"seen-by-all" in c.body[sid] for sid in watches), "the event on every watch")

    # One stream over the advertised limit (a client ignoring it): refused alone.
    c.conn.remote_settings._settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = \
        collections.deque([WATCHES + 10])
    extra = c.get("/version")
    c.flush()
    c.pump_until(lambda: extra in c.resets or extra in c.status, f"the refusal of the stream over the limit {extra}")
    assert extra not in c.status, (c.status[extra], bytes(c.body[extra]))
    assert c.resets[extra] == h2.errors.ErrorCodes.REFUSED_STREAM

    # Cancel every watch (what client-go does when an informer restarts), then watch again
    # on the same connection: the cancelled streams must not count against it.
    for sid in watches:
        c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
    again = [c.get(path) for _ in range(20)]
    c.flush()
    c.pump_until(lambda: all(sid in c.status for sid in again), "the new watches' responses")
    _create_configmap(admin_http, namespace, "seen-after-cancel")
    c.pump_until(lambda: all(b"seen-after-cancel" in c.body[sid] for sid in again), "the event on the new watches")
    assert all(b"seen-after-cancel" not in c.body[sid] for sid in watches)

    version = c.get("/version")
    c.flush()
    c.pump_until(lambda: version in c.status, "a plain request after all that")
    assert c.status[version] == 200
