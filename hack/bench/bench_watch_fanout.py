#!/usr/bin/env python
"""Watch fan-out: delivery latency from a write to each of N watchers. Prints numbers.

  python hack/bench/bench_watch_fanout.py [--watchers 100,1000] [--rounds 10] [--clients 2] [--workers 1]
                                          [--http2 CONNECTIONS]

One `pocketkube apiserver` (hypercorn, SQLite, TLS; --workers processes). For each N: N
HTTP/1.1 watch connections on one pod (a field selector, as a kubelet's watch of its
pods), then one merge PATCH every 0.3 s stamping the time just before it is sent; each
watcher records now - stamp on receipt, so a latency is the write's own time plus its
delivery. The watchers are spread over --clients processes, each one lean epoll loop
over non-blocking TLS sockets (an asyncio stream per watcher cost ~80 us of client CPU
per delivery against ~35 here, and on two cores the clients share the machine with the
server). Printed beside the latencies: the server's CPU per delivery (with its kernel
part: on loopback a send also does the receiver's TCP work) and the clients' CPU per
delivery, so a run shows which side the time went to. Compare runs made in one sitting.

--http2 C: the N watches are HTTP/2 streams multiplexed over C connections in all (as
client-go multiplexes a process's watches over one connection; hypercorn allows 1,000
streams per connection), read by the same lean loop with a hand-rolled frame reader (our
SETTINGS open the stream and connection windows wide, so reading needs no WINDOW_UPDATEs).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import select
import selectors
import socket
import ssl
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "hack" / "bench"))

from bench_api import Target, ensure_namespace, pod  # noqa: E402
from tests.harness import ServerProcess  # noqa: E402


MARK = b'"bench/sent":"'   # the sent-at annotation of each update, found with bytes.find (cheaper than a regex)


def _stamps(buf: bytes, end: int):
    """The sent-at stamps (floats) of the events in buf[:end], the initial "0" left out."""
    out = []
    i = buf.find(MARK, 0, end)
    while i >= 0:
        i += len(MARK)
        j = buf.find(b'"', i, end)
        if buf[i:j] != b"0":
            out.append(float(buf[i:j]))
        i = buf.find(MARK, j, end)
    return out


def _watchers(url: str, ca: str, token: str, path: str, n: int, rounds: int, ready, out) -> None:
    """N watch connections read by one loop (epoll, non-blocking TLS sockets, one recv per
    readiness); `ready` is set once every watch has its response headers (the server has
    set it up). Puts (latencies, CPU seconds spent while receiving) on `out`."""
    host, port = url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: application/json\r\n\r\n").encode()
    socks = []
    for _ in range(n):
        s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=60), server_hostname=host)
        s.sendall(request)
        s.setblocking(False)
        socks.append(s)
    ep = select.epoll()
    state = {}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
        state[s.fileno()] = [b"", 0, False, s]   # unparsed tail, events seen, headers read, socket
    room = bytearray(1 << 16)   # one receive buffer, reused (a fresh 64 KiB per recv cost more than the read)
    view = memoryview(room)
    latencies: list[float] = []
    started = 0   # watches whose response headers came: the server has set them up
    cpu = 0.0
    open_ = n
    deadline = time.monotonic() + rounds * 0.3 + 120
    while open_ and time.monotonic() < deadline:
        for fd, _ in ep.poll(1):
            st = state[fd]
            s = st[3]
            try:
                got = s.recv_into(room)
                data = bytes(view[:got])
                while s.pending():   # records already decrypted-ready in OpenSSL's buffer
                    data += s.recv(1 << 16)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            now = time.time()
            if not data:
                ep.unregister(fd)
                open_ -= 1
                continue
            buf = st[0] + data
            if not st[2]:
                head = buf.find(b"\r\n\r\n")
                if head < 0:
                    st[0] = buf
                    continue
                st[2] = True
                buf = buf[head + 4:]
                started += 1
                if started == n:
                    ready.set()
                    cpu = time.process_time()
            cut = buf.rfind(b"\n")
            if cut < 0:
                st[0] = buf
                continue
            st[0] = buf[cut + 1:]
            for stamp in _stamps(buf, cut):
                latencies.append(now - stamp)
                st[1] += 1
            if st[1] >= rounds:
                ep.unregister(fd)
                open_ -= 1
    cpu = time.process_time() - cpu
    for s in socks:
        s.close()
    out.put((latencies, cpu))


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_WINDOW = 2**31 - 1


def _h2_frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream.to_bytes(4, "big") + payload


def _h2_watchers(url: str, ca: str, token: str, path: str, n: int, conns: int, rounds: int, ready, out) -> None:
    """N watch streams over `conns` HTTP/2 connections, read as _watchers reads HTTP/1.1."""
    import hpack
    host, port = url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["h2"])
    headers = [(":method", "GET"), (":scheme", "https"), (":authority", f"{host}:{port}"), (":path", path),
               ("authorization", f"Bearer {token}"), ("accept", "application/json")]
    sel = selectors.DefaultSelector()
    conn_state = {}   # socket -> [unread bytes, {stream id: [unparsed tail, events seen]}]
    socks = []
    conns = max(1, min(conns, n))
    for c in range(conns):
        streams = n // conns + (1 if c < n % conns else 0)
        s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=60), server_hostname=host)
        if s.selected_alpn_protocol() != "h2":
            raise SystemExit(f"the server did not choose h2 (ALPN {s.selected_alpn_protocol()!r})")
        enc = hpack.Encoder()
        settings = (2).to_bytes(2, "big") + (0).to_bytes(4, "big") + (4).to_bytes(2, "big") + H2_WINDOW.to_bytes(4, "big")
        first = [H2_PREFACE, _h2_frame(4, 0, 0, settings),
                 _h2_frame(8, 0, 0, (H2_WINDOW - 65535).to_bytes(4, "big"))]
        ids = [1 + 2 * i for i in range(streams)]
        first += [_h2_frame(1, 0x5, sid, enc.encode(headers)) for sid in ids]   # END_STREAM | END_HEADERS
        s.sendall(b"".join(first))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        conn_state[s] = [b"", {sid: [b"", 0] for sid in ids}]
        socks.append(s)
    latencies: list[float] = []
    started = 0
    cpu = 0.0
    open_ = n
    deadline = time.monotonic() + rounds * 0.3 + 120
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            try:
                data = s.recv(1 << 18)
                while s.pending():
                    data += s.recv(1 << 18)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            now = time.time()
            cs = conn_state[s]
            if not data:
                sel.unregister(s)
                open_ -= sum(1 for st in cs[1].values() if st[1] < rounds)
                continue
            buf = cs[0] + data
            pos, end = 0, len(buf)
            replies = []
            while end - pos >= 9:
                length = int.from_bytes(buf[pos:pos + 3], "big")
                if end - pos < 9 + length:
                    break
                kind, flags = buf[pos + 3], buf[pos + 4]
                sid = int.from_bytes(buf[pos + 5:pos + 9], "big") & 0x7FFFFFFF
                payload = buf[pos + 9:pos + 9 + length]
                pos += 9 + length
                st = cs[1].get(sid)
                if kind == 0 and st is not None:   # DATA
                    if flags & 0x8:   # PADDED
                        payload = payload[1:len(payload) - payload[0]]
                    chunk = st[0] + payload
                    cut = chunk.rfind(b"\n")
                    if cut < 0:
                        st[0] = chunk
                        continue
                    st[0] = chunk[cut + 1:]
                    before = st[1]
                    for stamp in _stamps(chunk, cut):
                        latencies.append(now - stamp)
                        st[1] += 1
                    if before < rounds <= st[1]:
                        open_ -= 1
                elif kind == 1 and st is not None:   # the response's HEADERS
                    started += 1
                    if started == n:
                        ready.set()
                        cpu = time.process_time()
                elif kind == 4 and not flags & 0x1:   # SETTINGS: acknowledge
                    replies.append(_h2_frame(4, 0x1, 0))
                elif kind == 6 and not flags & 0x1:   # PING: answer
                    replies.append(_h2_frame(6, 0x1, 0, payload))
                elif kind == 3 and st is not None and st[1] < rounds:   # RST_STREAM
                    st[1] = rounds
                    open_ -= 1
                elif kind == 7:   # GOAWAY
                    raise SystemExit(f"GOAWAY from the server: {payload!r}")
            cs[0] = buf[pos:]
            if replies:
                s.setblocking(True)
                s.sendall(b"".join(replies))
                s.setblocking(False)
    cpu = time.process_time() - cpu
    for s in socks:
        s.close()
    out.put((latencies, cpu))


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process and its live children (the API server's
    workers), from /proc. On loopback the kernel's part of a send includes the
    receiving side's TCP work."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        user += int(fields[11]) / tick
        system += int(fields[12]) / tick
    return user, system


def measure(t: Target, ns: str, watchers: int, rounds: int, clients: int,
            h2_connections: int = 0) -> tuple[float, float, int, float, float, float]:
    import httpx
    with httpx.Client(base_url=t.url, verify=t.tls(), headers=t.headers(), timeout=60) as c:
        name = f"watched-{watchers}"
        r = c.post(f"/api/v1/namespaces/{ns}/pods", json=pod(name, **{"bench/sent": "0"}))
        r.raise_for_status()
        rv = r.json()["metadata"]["resourceVersion"]
        path = (f"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}"
                f"&fieldSelector=metadata.name%3D{name}")
        out = multiprocessing.Queue()
        procs, events = [], []
        for i in range(clients):
            ready = multiprocessing.Event()
            share = watchers // clients + (1 if i < watchers % clients else 0)
            if h2_connections:
                conns = h2_connections // clients + (1 if i < h2_connections % clients else 0)
                p = multiprocessing.Process(target=_h2_watchers, args=(
                    t.url, t.ca, t.token, path, share, conns, rounds, ready, out))
            else:
                p = multiprocessing.Process(target=_watchers, args=(
                    t.url, t.ca, t.token, path, share, rounds, ready, out))
            p.start()
            procs.append(p)
            events.append(ready)
        for e in events:
            e.wait(120)
        pid = t.proc.proc.pid
        cpu = cpu_seconds(pid)
        for _ in range(rounds):
            patch = {"metadata": {"annotations": {"bench/sent": f"{time.time():.6f}"}}}
            c.patch(f"/api/v1/namespaces/{ns}/pods/{name}", content=json.dumps(patch),
                    headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()
            time.sleep(0.3)
        results = [out.get(timeout=180) for _ in procs]
        (user, system), (user0, system0) = cpu_seconds(pid), cpu
        cpu, kernel = user + system - user0 - system0, system - system0
        latencies = sorted(x for lat, _ in results for x in lat)
        client_cpu = sum(c for _, c in results)
        for p in procs:
            p.join(10)
    if not latencies:
        return float("nan"), float("nan"), 0, cpu, kernel, client_cpu
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731
    return pct(0.50), pct(0.99), len(latencies), cpu, kernel, client_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--watchers", default="100,1000")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1,
                    help="API-server processes (the product's default is one per core; 1 as in the tests)")
    ap.add_argument("--http2", type=int, default=0, metavar="CONNECTIONS",
                    help="watch over HTTP/2: the watchers as streams over this many connections in all")
    a = ap.parse_args()
    if a.http2 and a.http2 < a.clients:
        ap.error("--http2 needs at least one connection per client process (--clients)")
    base = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    srv = ServerProcess(base / "hypercorn", extra_args=["--workers", str(a.workers)]).start()
    srv.wait_ready()
    t = Target("pocketkube/hypercorn", srv.url, srv.token, str(srv.ca_file), srv)
    try:
        ensure_namespace(t, "watch")
        for n in (int(x) for x in a.watchers.split(",")):
            p50, p99, got, cpu, kernel, client_cpu = measure(t, "watch", n, a.rounds, a.clients, a.http2)
            mode = f" over HTTP/2 ({a.http2} connections)" if a.http2 else ""
            print(f"{n:5d} watchers{mode}: p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
                  f"({got} of {n * a.rounds} deliveries; server CPU {cpu / a.rounds * 1000:.0f} ms "
                  f"per write, {cpu / max(got, 1) * 1e6:.0f} us per delivery of which kernel "
                  f"{kernel / max(got, 1) * 1e6:.0f} us; clients' CPU "
                  f"{client_cpu / max(got, 1) * 1e6:.0f} us per delivery)", flush=True)
    finally:
        t.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
