"""Hostile and careless clients (issue 20): handshake, header and idle timeouts, caps on
connections, and the memory idle connections hold, against a real server process.

The server here runs with timeouts of a few seconds (the flags' defaults are
kube-apiserver's 32 s / 90 s), so the tests see them fire; they wait for what
they expect, and bound only with generous deadlines.
"""
from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path

import pytest

from tests.harness import running_server

IDLE_CONNECTIONS = 1000
SLOW_CLIENTS = 50
GENEROUS_S = 60


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    args = ["--tls-handshake-timeout", "5s", "--request-header-timeout", "2s", "--idle-connection-timeout", "3s",
            "--max-connections", "1500", "--max-connections-per-client", "1200"]
    with running_server(tmp_path_factory.mktemp("strict"), extra_args=args) as srv:
        yield srv


def _tls(server, source: str = "127.0.0.1") -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (non-blocking check)."""
    sock.setblocking(False)
    try:
        return sock.recv(1024) == b""
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True
    finally:
        sock.setblocking(True)


def _wait(cond, what: str, timeout: float = GENEROUS_S) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def _read_response(sock: ssl.SSLSocket) -> bytes:
    """One whole HTTP/1.1 response with a Content-Length (it may come in several records)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed mid-response after {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _established(port: int) -> int:
    """Server-side established TCP connections of `port`."""
    hexport = f":{port:04X}"
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            n += fields[1].endswith(hexport) and fields[3] == "01"
    return n


def test_idle_connections_memory_is_bounded_and_given_back(strict_server):
    pid = strict_server.proc.pid
    base = _rss_kib(pid)
    peak = base
    conns = []
    try:
        for i in range(IDLE_CONNECTIONS):
            conns.append(socket.create_connection(("127.0.0.1", strict_server.port)))
            if i % 50 == 0:
                peak = max(peak, _rss_kib(pid))
        # the server drops them after its handshake timeout: sample while it still holds them
        for _ in range(20):
            peak = max(peak, _rss_kib(pid))
            time.sleep(0.1)
    finally:
        for s in conns:
            s.close()
    held_kib = peak - base
    print(f"RSS {base / 1024:.0f} MiB; with {IDLE_CONNECTIONS} idle connections at most +{held_kib / IDLE_CONNECTIONS:.0f}"
          f" KiB each")
    # ~305 KiB each before the fix (asyncio's 256 KiB TLS read buffer); ~65 KiB after.
    assert held_kib < IDLE_CONNECTIONS * 150, f"{held_kib / IDLE_CONNECTIONS:.0f} KiB per idle connection"
    # ...and it comes back once they are gone (before the fix none of it did).
    _wait(lambda: _rss_kib(pid) - base < 32 * 1024, "RSS to return near its baseline")
    with strict_server.http_client() as c:
        assert c.get("/readyz").status_code == 200


def test_slowloris_connections_are_closed_by_the_header_timeout(strict_server):
    request = b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    slow = [_tls(strict_server) for _ in range(SLOW_CLIENTS)]
    sent = 0
    deadline = time.monotonic() + GENEROUS_S
    open_ = list(slow)
    with strict_server.http_client() as other:
        while open_:
            assert time.monotonic() < deadline, f"{len(open_)} of {SLOW_CLIENTS} slow clients still held"
            for s in list(open_):
                try:
                    s.sendall(request[sent:sent + 1])   # one byte a second each
                except (ConnectionError, ssl.SSLError, OSError):
                    open_.remove(s)
                    continue
                if _closed_by_server(s):
                    open_.remove(s)
            sent += 1
            # others are served meanwhile
            assert other.get("/readyz").status_code == 200
            time.sleep(1)
    assert sent < len(request), "the whole request went out before the server closed the connections"
    for s in slow:
        s.close()


def test_idle_keep_alive_and_silent_handshake_are_closed(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port)) as raw, _tls(strict_server) as s:
        # `raw` never starts TLS; `s` makes one request and then stays quiet
        s.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200 OK")
        _wait(lambda: _closed_by_server(s), "the idle keep-alive connection to be closed")
        _wait(lambda: _closed_by_server(raw), "the silent TLS handshake to be closed")


def test_a_connection_in_use_outlives_the_idle_timeout(strict_server):
    """Idleness is continuous quiet: requests half a second apart for longer than the
    3 s timeout keep one connection open (each answer starts the timer again), and
    quiet after them closes it."""
    with _tls(strict_server) as s:
        start = time.monotonic()
        while time.monotonic() - start < 5:
            s.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _read_response(s).startswith(b"HTTP/1.1 200 OK")
            time.sleep(0.5)
        _wait(lambda: _closed_by_server(s), "the connection to be closed once quiet")


def test_a_keep_alive_connection_closed_for_idleness_is_reused_cleanly(strict_server):
    with strict_server.http_client(http1=True) as h1, strict_server.http_client(http2=True, http1=False) as h2:
        assert h1.get("/version").status_code == 200
        assert h2.get("/version").status_code == 200
        with _tls(strict_server) as probe:   # idle from a moment later than theirs
            probe.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert probe.recv(65536).startswith(b"HTTP/1.1 200 OK")
            _wait(lambda: _closed_by_server(probe), "the server to close idle connections")
        # each on a new connection, with no EOF error
        assert h1.get("/version").status_code == 200
        assert h2.get("/version").status_code == 200


def test_an_early_answer_while_the_client_still_sends_logs_no_traceback(strict_server):
    body = b"x" * (4 << 20)
    for _ in range(5):
        with _tls(strict_server) as s:   # no token: 401 before the body is read
            s.sendall(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            try:
                s.sendall(body)
            except (ConnectionError, ssl.SSLError, OSError):
                pass
    with strict_server.http_client() as c:
        assert c.get("/readyz").status_code == 200
    log = strict_server.log(100000)
    assert "Traceback" not in log and "APPLICATION_DATA_AFTER_CLOSE_NOTIFY" not in log, log[-3000:]


def test_an_answer_before_the_body_was_sent_keeps_the_connection(strict_server):
    """An answer decided from the headers alone (here a 401: no token) goes out before the
    client has sent its body. As with Go's server, the connection then takes the next
    request once the body is in; one whose body is too large to read through says
    `Connection: close`, and is closed after the answer."""
    body = b'{"metadata": {"name": "x"}}'
    head = (b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
    with _tls(strict_server) as s:
        for _ in range(2):   # twice on the one connection, then a GET on it
            s.sendall(head % len(body))
            answer = _read_response(s)   # whole, before the body goes
            assert answer.startswith(b"HTTP/1.1 401") and b"connection: close" not in answer.lower(), answer
            s.sendall(body)
        s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(s).startswith(b"HTTP/1.1 200 OK")
    with _tls(strict_server) as s:
        s.sendall(head % (4 << 20))
        answer = _read_response(s)
        assert answer.startswith(b"HTTP/1.1 401") and b"connection: close" in answer.lower(), answer
        _wait(lambda: _closed_by_server(s), "the connection closed after its answer")


def test_refused_upgrades_answer_a_status_and_say_what_happens_to_the_connection(strict_server):
    """exec into a missing pod: the SPDY upgrade (kubectl before 1.30) is refused with a
    Status and the connection takes the next request; the WebSocket one is refused with a
    Status that says `Connection: close`, as the connection then closes."""
    path = b"/api/v1/namespaces/default/pods/missing/exec?command=true&stdout=true"
    auth = b"Authorization: Bearer %s\r\n" % strict_server.token.encode()
    with _tls(strict_server) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\n%sConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                  b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n" % (path, auth))
        answer = _read_response(s)
        assert answer.startswith(b"HTTP/1.1 404") and b'"kind":"Status"' in answer.replace(b" ", b""), answer
        s.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n%s\r\n" % auth)
        assert _read_response(s).startswith(b"HTTP/1.1 200 OK")
    with _tls(strict_server) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: Upgrade\r\nUpgrade: websocket\r\n"
                  b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n" % (path, auth))
        answer = _read_response(s)
        assert answer.startswith(b"HTTP/1.1 404") and b'"kind":"Status"' in answer.replace(b" ", b""), answer
        assert b"connection: close" in answer.lower(), answer
        _wait(lambda: _closed_by_server(s), "the refused upgrade's connection closed")


def test_connections_over_the_caps_are_closed(server_factory):
    srv = server_factory(extra_args=["--max-connections", "30", "--max-connections-per-client", "20"])
    mine = [_tls(srv) for _ in range(20)]
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        _tls(srv).sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")   # a 21st from 127.0.0.1
    others = [_tls(srv, source="127.0.0.2") for _ in range(10)]          # another client: its own cap
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        _tls(srv, source="127.0.0.3")                                      # the server is full
    for s in mine[:5] + others:
        s.close()
    with srv.http_client() as c:                                           # closed ones free their slots
        _wait(lambda: _try_get(c), "a slot to free up")
    for s in mine[5:]:
        s.close()


def _try_get(client) -> bool:
    import httpx

    try:
        return client.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False
