#!/usr/bin/env python
"""Where a pod create spends its time: one in-process server, no network.

  python hack/bench/profile_create.py [-n 2000] [--concurrency 32] [--profile] [--top 40]
  python hack/bench/profile_create.py --stages     # the pure steps of a create, timed one by one
  python hack/bench/profile_create.py --https      # a real server process, a near-free raw client

Builds the API server app exactly as `pocketkube apiserver` does (SQLite under
/dev/shm, default admission) and drives it through httpx's ASGI transport, so
TLS and the HTTP server are out of the picture: what is left is our code. Prints
creates/s; with --profile, a cProfile table sorted by own time and by
cumulative time. --stages times the pure steps of a create (decode, defaults,
managed fields, validation, encoding) one by one, best of several rounds, so a
busy machine blurs them less. --https starts `pocketkube apiserver` and posts
over TLS + HTTP/1.1 keep-alive with a hand-rolled client (httpx spends about 4
ms of CPU per create here, more than the server), printing creates/s and the
server's and client's CPU per create. Asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def pod(name: str) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "labels": {"app": "bench"}, "annotations": {}},
                       "spec": {"containers": [{"name": "c", "image": "localhost/busybox",
                                                "command": ["sleep", "3600"]}]}}).encode()


async def run(n: int, concurrency: int, profiler: cProfile.Profile | None, raw: bool = False) -> None:
    import httpx

    from apiserver.auth.credentials import ensure_credentials
    from apiserver.assembly.options import parse_args
    from apiserver.assembly.server import build_app, build_store

    base = tempfile.mkdtemp(prefix="profile-create-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    opts = parse_args(["--data-dir", base, "--secure-port", "6443"])
    creds = ensure_credentials(opts.data_dir, port=6443, first_service_ip=opts.first_service_ip)
    store = build_store(opts)
    app = await build_app(opts, store, creds, 6443)
    headers = {"Authorization": f"Bearer {creds.tokens.admin_token()}", "Content-Type": "application/json"}
    if raw:
        try:
            return await _run_raw(app, store, headers, n, concurrency, profiler)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test", headers=headers) as c:
        r = await c.post("/api/v1/namespaces", content=json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}))
        assert r.status_code in (201, 409), r.text
        for i in range(50):  # warm caches (compiled schemas, managed-field walks)
            r = await c.post("/api/v1/namespaces/bench/pods", content=pod(f"warm{i}"))
            assert r.status_code == 201, r.text
        todo = iter(range(n))

        async def worker() -> None:
            for i in todo:
                r = await c.post("/api/v1/namespaces/bench/pods", content=pod(f"p{i}"))
                if r.status_code != 201:
                    raise SystemExit(f"create failed: {r.status_code} {r.text[:300]}")

        if profiler:
            profiler.enable()
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler:
            profiler.disable()
    await store.close()
    shutil.rmtree(base, ignore_errors=True)
    # CPU per create (server and client together) is what a busy machine cannot blur.
    print(f"{n} creates, concurrency {concurrency}: {n / took:,.0f}/s, {cpu / n * 1e3:.3f} ms CPU each "
          f"(server + in-process client{', profiled' if profiler else ''}; load {os.getloadavg()[0]:.1f})")


async def _asgi_post(app, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
    """One request straight into the ASGI app: no client, no HTTP parsing."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "server": ("127.0.0.1", 6443), "client": ("127.0.0.1", 50000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
             + [(b"content-length", str(len(body)).encode())]}
    sent = False
    status, chunks = 0, []

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _run_raw(app, store, headers, n, concurrency, profiler) -> None:
    path = "/api/v1/namespaces/bench/pods"
    status, out = await _asgi_post(app, "/api/v1/namespaces", headers, json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}).encode())
    assert status in (201, 409), out
    for i in range(50):
        status, out = await _asgi_post(app, path, headers, pod(f"warm{i}"))
        assert status == 201, out
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            status, out = await _asgi_post(app, path, headers, pod(f"p{i}"))
            if status != 201:
                raise SystemExit(f"create failed: {status} {out[:300]}")

    if profiler:
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        profiler.disable()
    await store.close()
    print(f"{n} creates, concurrency {concurrency}: {n / took:,.0f}/s, {cpu / n * 1e3:.3f} ms CPU each "
          f"(the ASGI app alone{', profiled' if profiler else ''}; load {os.getloadavg()[0]:.1f})")


async def _raw_https_creates(host: str, port: int, ca: str, token: str, n: int, concurrency: int) -> float:
    """Creates/s over TLS from `concurrency` keep-alive connections, parsing no more than needed."""
    import re
    import ssl

    ctx = ssl.create_default_context(cafile=ca)
    length_re = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
    todo = iter(range(n))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
        try:
            for i in todo:
                body = pod(f"h{i}")
                writer.write(b"POST /api/v1/namespaces/bench/pods HTTP/1.1\r\nHost: %s\r\n"
                             b"Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (host.encode(), token.encode(), len(body), body))
                head = await reader.readuntil(b"\r\n\r\n")
                m = length_re.search(head)
                answer = await reader.readexactly(int(m.group(1))) if m else b""
                if head[9:12] != b"201":
                    raise SystemExit(f"create failed: {head[:12]!r} {answer[:300]!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


def https(n: int, concurrency: int) -> None:
    import httpx

    from tests.harness import ServerProcess

    base = Path(tempfile.mkdtemp(prefix="profile-create-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    srv = ServerProcess(base).start()
    try:
        srv.wait_ready()
        r = httpx.post(srv.url + "/api/v1/namespaces", verify=str(srv.ca_file),
                       headers={"Authorization": f"Bearer {srv.token}"},
                       json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        assert r.status_code in (201, 409), r.text

        def server_cpu() -> float:
            fields = Path(f"/proc/{srv.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        cpu0, client0 = server_cpu(), time.process_time()
        rate = asyncio.run(_raw_https_creates("127.0.0.1", srv.port, str(srv.ca_file), srv.token, n, concurrency))
        cpu, client = server_cpu() - cpu0, time.process_time() - client0
        print(f"{n} creates over HTTPS, concurrency {concurrency}: {rate:,.0f}/s; CPU per create: server "
              f"{cpu / n * 1e3:.3f} ms, client {client / n * 1e3:.3f} ms (load {os.getloadavg()[0]:.1f})")
    finally:
        srv.stop()
        shutil.rmtree(base, ignore_errors=True)


def stages(rounds: int = 7, n: int = 500) -> None:
    import copy

    import orjson

    from apiserver.machinery import fieldvalidation, schemas
    from apiserver.machinery.managedfields.writes import record_write
    from apiserver.registry.objects import encode_for_store, now_rfc3339
    from apiserver.registry.resources import strategy_for
    from openapi import catalogue

    r = catalogue.load().by_kind("", "v1", "Pod")
    strategy = strategy_for(r)
    schema = schemas.for_kind("", "v1", "Pod")

    def managed_fields(obj, old, operation):
        record_write(r, obj, old, operation=operation, options=opts, subresource="", now=now_rfc3339())
    body = pod("p1")

    def decode():
        obj, dups = fieldvalidation.decode_strict(body, "application/json")
        fieldvalidation.enforce(obj, dups, schema, fieldvalidation.WARN, kind="Pod", version="v1")
        obj["metadata"].update(namespace="bench", uid="0d7f1c4e-0000-4000-8000-000000000000",
                               creationTimestamp="2026-01-01T00:00:00Z")
        return obj

    decoded = decode()
    defaulted = copy.deepcopy(decoded)
    strategy.defaults(defaulted)
    managed = copy.deepcopy(defaulted)
    opts = {"_userAgent": "bench/v1"}
    managed_fields(managed, None, "CREATE")
    assert not strategy.check_create(managed)
    steps = {
        "decode + field validation": (lambda _: decode(), None),
        "defaults": (lambda o: strategy.defaults(o), decoded),
        "managed fields (create)": (lambda o: managed_fields(o, None, "CREATE"), defaulted),
        "managed fields (update)": (lambda o: managed_fields(o, managed, "UPDATE"), managed),
        "validate_create": (lambda o: strategy.check_create(o), managed),
        "encode_for_store": (lambda o: encode_for_store(o), managed),
    }
    total = 0.0
    for name, (fn, template) in steps.items():
        best = float("inf")
        for _ in range(rounds):
            copies = [orjson.loads(orjson.dumps(template)) if template is not None else None for _ in range(n)]
            start = time.perf_counter()
            for o in copies:
                fn(o)
            best = min(best, (time.perf_counter() - start) / n)
        total += best if "update" not in name else 0
        print(f"  {name:28} {best * 1e6:8.1f} us")
    print(f"  {'create steps together':28} {total * 1e6:8.1f} us")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--https", action="store_true", help="a real server process and a raw TLS client")
    ap.add_argument("--raw", action="store_true", help="call the ASGI app directly (no httpx client)")
    a = ap.parse_args()
    if a.stages:
        return stages()
    if a.https:
        return https(a.n, a.concurrency)
    profiler = cProfile.Profile() if a.profile else None
    if a.uvloop:
        import uvloop
        uvloop.run(run(a.n, a.concurrency, profiler, a.raw))
    else:
        asyncio.run(run(a.n, a.concurrency, profiler, a.raw))
    if profiler:
        st = pstats.Stats(profiler)
        st.sort_stats("tottime").print_stats(a.top)
        st.sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
