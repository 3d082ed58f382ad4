#!/usr/bin/env python
"""What counting requests for /metrics costs.

  python hack/bench/bench_metrics.py [-n 2000]

1. The middleware alone: a trivial ASGI app answering 200 with and without
   MetricsMiddleware around it; the difference is the cost per request.
2. The real app (built as `pocketkube apiserver` builds it, SQLite under /dev/shm),
   called straight through ASGI (no client, no TLS): pod creates/s and GETs/s
   with metrics on and off.
Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _scope(method: str, path: str, headers: dict, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "server": ("127.0.0.1", 6443), "client": ("127.0.0.1", 50000),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"content-length", str(len(body)).encode())]}


async def call(app, method: str, path: str, headers: dict, body: bytes = b"") -> int:
    status = 0
    sent = False

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

    await app(_scope(method, path, headers, body), receive, send)
    return status


async def middleware_cost(n: int) -> None:
    from apiserver.http.metrics import INFO_KEY, ApiMetrics, MetricsMiddleware
    from apiserver.http.requestinfo import parse_request_info

    info = parse_request_info("GET", "/api/v1/namespaces/d/pods/p", {})

    async def bare(scope, receive, send):
        scope[INFO_KEY] = info
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    counted = MetricsMiddleware(bare, ApiMetrics())
    best = {}
    # the headers a client sends (the User-Agent is counted by kind of client)
    headers = {"User-Agent": "kubectl.1.33/v1.33.0 (linux/amd64) kubernetes/abcdef", "Accept": "application/json",
               "Authorization": "Bearer x"}
    for name, app in (("bare", bare), ("counted", counted)) * 3:
        start = time.perf_counter()
        for _ in range(n):
            await call(app, "GET", "/api/v1/namespaces/d/pods/p", headers)
        best[name] = min(best.get(name, 1e9), (time.perf_counter() - start) / n)
    print(f"middleware: {(best['counted'] - best['bare']) * 1e6:.2f} µs per request "
          f"(bare call {best['bare'] * 1e6:.2f} µs, counted {best['counted'] * 1e6:.2f} µs; best of 3, n={n})")


def pod(name: str) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [{"name": "c", "image": "localhost/busybox"}]}}).encode()


async def app_rates(n: int, metrics: bool) -> tuple[float, float]:
    from apiserver.assembly.options import parse_args
    from apiserver.assembly.server import build_app, build_store
    from apiserver.auth.credentials import ensure_credentials

    base = tempfile.mkdtemp(prefix="bench-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        opts = parse_args(["--data-dir", base, "--secure-port", "6443"])
        creds = ensure_credentials(opts.data_dir, port=6443, first_service_ip=opts.first_service_ip)
        store = build_store(opts)
        app = await build_app(opts, store, creds, 6443, metrics=metrics)
        h = {"Authorization": f"Bearer {creds.tokens.admin_token()}", "Content-Type": "application/json",
             "User-Agent": "kubectl.1.33/v1.33.0 (linux/amd64) kubernetes/abcdef"}
        await call(app, "POST", "/api/v1/namespaces", h, json.dumps({"metadata": {"name": "bench"}}).encode())
        path = "/api/v1/namespaces/bench/pods"
        for i in range(20):
            assert await call(app, "POST", path, h, pod(f"warm{i}")) == 201
        start = time.perf_counter()
        for i in range(n):
            await call(app, "POST", path, h, pod(f"p{i}"))
        creates = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(n):
            await call(app, "GET", f"{path}/p{i}", h)
        gets = n / (time.perf_counter() - start)
        await store.close()
        return creates, gets
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def main(n: int) -> None:
    await middleware_cost(n * 10)
    for metrics in (False, True, False, True):
        creates, gets = await app_rates(n, metrics)
        print(f"metrics {'on ' if metrics else 'off'}: {creates:,.0f} creates/s, {gets:,.0f} GETs/s "
              f"(one at a time, n={n}; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    asyncio.run(main(ap.parse_args().n))
