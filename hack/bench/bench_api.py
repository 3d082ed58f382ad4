#!/usr/bin/env python
"""API server benchmark: prints a table, asserts nothing.

  python hack/bench/bench_api.py [--quick] [--duration 5] [--concurrency 32]

Servers, all on this machine, all over TLS:
  pocketkube/hypercorn   `pocketkube apiserver` as it ships (HTTP/1.1 + h2)
  pocketkube/uvicorn     the same ASGI app on uvicorn (uvloop, httptools)
  bare/hypercorn         a bare Starlette app returning the same pod bytes
  bare/uvicorn           the same bare app on uvicorn
Measures: GET of one pod (req/s over HTTP/1.1 keep-alive; wrk when installed,
else an httpx client), creates/s, LIST of 1,000 and 10,000 pods (seconds, best
of 3), watch fan-out (delivery latency p50/p99 to 1,000 watchers).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess, free_port  # noqa: E402


def pod(name: str, **annotations) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "bench"}, "annotations": annotations},
            "spec": {"containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"]}]}}


# ---- serving modes (run as child processes) -------------------------------------------
def serve_pocketkube_uvicorn(data_dir: str, port: int) -> None:
    import uvicorn

    from apiserver.auth.credentials import ensure_credentials
    from apiserver.assembly.options import parse_args
    from apiserver.assembly.server import build_app, build_store

    opts = parse_args(["--data-dir", data_dir, "--secure-port", str(port)])

    async def main() -> None:
        creds = ensure_credentials(opts.data_dir, port=port, first_service_ip=opts.first_service_ip)
        app = await build_app(opts, build_store(opts), creds, port)
        cfg = uvicorn.Config(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                             ssl_certfile=str(creds.pki.cert), ssl_keyfile=str(creds.pki.key),
                             log_level="warning", access_log=False, lifespan="on")
        await uvicorn.Server(cfg).serve()

    import uvloop
    uvloop.run(main())


def serve_bare(server: str, body_file: str, port: int, cert: str, key: str) -> None:
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(body_file).read_bytes()

    async def get_pod(request):
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", get_pod)])
    if server == "uvicorn":
        import uvicorn
        uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", ssl_certfile=cert,
                    ssl_keyfile=key, log_level="warning", access_log=False)
    else:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config
        cfg = Config()
        cfg.bind = [f"127.0.0.1:{port}"]
        cfg.certfile, cfg.keyfile = cert, key
        cfg.alpn_protocols = ["h2", "http/1.1"]
        cfg.keep_alive_max_requests = 2**62
        cfg.accesslog = None
        asyncio.run(serve(app, cfg))


# ---- clients ------------------------------------------------------------------------------
class Target:
    def __init__(self, name: str, url: str, token: str, ca: str, proc: subprocess.Popen | ServerProcess):
        self.name, self.url, self.token, self.ca, self.proc = name, url, token, ca, proc

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        if isinstance(self.proc, ServerProcess):
            self.proc.stop()
        else:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wait_ready(url: str, ca: str, timeout: float = 60) -> None:
    import httpx
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # The CA file appears once the server has written its PKI.
            if os.path.exists(ca) and httpx.get(url + "/readyz", verify=ssl.create_default_context(cafile=ca),
                                                timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not get ready")


def get_rate(t: Target, path: str, duration: float, concurrency: int) -> float:
    """Requests per second for GET path, HTTP/1.1 keep-alive."""
    if shutil.which("wrk"):
        cp = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{int(duration)}s", "-H",
                             f"Authorization: Bearer {t.token}", t.url + path],
                            capture_output=True, text=True)
        m = re.search(r"Requests/sec:\s+([\d.]+)", cp.stdout)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", cp.stdout)
        if non2xx:
            print(f"  warning: {t.name}: {non2xx.group(1)} non-2xx responses", file=sys.stderr)
        return float(m.group(1)) if m else float("nan")
    return asyncio.run(_httpx_rate(t, path, duration, concurrency))


async def _httpx_rate(t: Target, path: str, duration: float, concurrency: int) -> float:
    import httpx
    count = 0
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=t.url, verify=t.tls(), headers=t.headers(), limits=limits) as c:
        async def worker() -> None:
            nonlocal count
            while time.monotonic() < deadline:
                (await c.get(path)).raise_for_status()
                count += 1
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.monotonic() - start)


async def create_pods(t: Target, ns: str, n: int, concurrency: int, prefix: str = "p") -> float:
    """Create n pods; returns creates per second."""
    import httpx
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=t.url, verify=t.tls(), headers=t.headers(), limits=limits, timeout=60) as c:
        todo = iter(range(n))

        async def worker() -> None:
            for i in todo:
                r = await c.post(f"/api/v1/namespaces/{ns}/pods", content=json.dumps(pod(f"{prefix}{i}")),
                                 headers={"Content-Type": "application/json"})
                if r.status_code != 201:
                    raise SystemExit(f"create failed: {r.status_code} {r.text[:300]}")
        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.monotonic() - start)


def ensure_namespace(t: Target, ns: str) -> None:
    import httpx
    r = httpx.post(t.url + "/api/v1/namespaces", verify=t.tls(), headers=t.headers(),
                   json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    if r.status_code not in (201, 409):
        raise SystemExit(f"namespace create failed: {r.status_code} {r.text[:300]}")


def list_seconds(t: Target, ns: str, expect: int) -> float:
    import httpx
    best = float("inf")
    with httpx.Client(base_url=t.url, verify=t.tls(), headers=t.headers(), timeout=120) as c:
        for _ in range(3):
            start = time.monotonic()
            r = c.get(f"/api/v1/namespaces/{ns}/pods")
            body = r.content
            best = min(best, time.monotonic() - start)
            n = len(json.loads(body).get("items") or []) if r.status_code == 200 else r.status_code
            if n != expect:
                raise SystemExit(f"list returned {n}, expected {expect}")
    return best


STAMP = re.compile(rb'"bench/sent":"([\d.]+)"')   # the sent-at annotation of each update


async def watch_stamps(host: str, port: int, ctx: ssl.SSLContext, request: bytes, rounds: int,
                       latencies: list[float], connected=lambda: None) -> None:
    """One raw HTTP/1.1 watch stream: send `request`, call connected() once the response
    headers are in, then add now minus the sent-at stamp of each event carrying one to
    `latencies`, until `rounds` have come or the stream ends."""
    reader, writer = await asyncio.open_connection(host, int(port), ssl=ctx, limit=2**22)
    writer.write(request)
    await reader.readuntil(b"\r\n\r\n")
    connected()
    seen = 0
    try:
        while seen < rounds:
            line = await reader.readline()
            if not line:
                return
            m = STAMP.search(line)
            if m and m.group(1) != b"0":
                latencies.append(time.time() - float(m.group(1)))
                seen += 1
    finally:
        writer.close()


async def watch_latency(t: Target, ns: str, watchers: int, rounds: int) -> tuple[float, float, int]:
    """Open `watchers` raw HTTP/1.1 watch streams, update one pod `rounds` times, and
    measure the delay from just before each write to each watcher's receipt."""
    import httpx
    host, port = t.url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=t.ca)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=t.url, verify=t.tls(), headers=t.headers(), timeout=60) as c:
        r = await c.post(f"/api/v1/namespaces/{ns}/pods", json=pod("watched", **{"bench/sent": "0"}))
        rv = r.json()["metadata"]["resourceVersion"]
        path = (f"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={rv}"
                f"&fieldSelector=metadata.name%3Dwatched")
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {t.token}\r\n"
                   f"Accept: application/json\r\n\r\n").encode()
        ready = asyncio.Semaphore(0)

        tasks = []
        for _ in range(watchers):
            tasks.append(asyncio.create_task(watch_stamps(host, port, ctx, request, rounds, latencies,
                                                          ready.release)))
        for _ in range(watchers):
            await ready.acquire()
        for _ in range(rounds):
            patch = {"metadata": {"annotations": {"bench/sent": f"{time.time():.6f}"}}}
            r = await c.patch(f"/api/v1/namespaces/{ns}/pods/watched", json=patch,
                              headers={"Content-Type": "application/merge-patch+json"})
            r.raise_for_status()
            await asyncio.sleep(0.3)
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
    latencies.sort()
    if not latencies:
        return float("nan"), float("nan"), 0
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731
    return pct(0.50), pct(0.99), len(latencies)


# ---- orchestration ------------------------------------------------------------------------
def start_pocketkube_hypercorn(base: Path) -> Target:
    srv = ServerProcess(base / "hypercorn").start()
    srv.wait_ready()
    return Target("pocketkube/hypercorn", srv.url, srv.token, str(srv.ca_file), srv)


def start_child(name: str, args: list[str], url: str, ca: str, token: str) -> Target:
    proc = subprocess.Popen([sys.executable, __file__, *args], cwd=REPO)
    try:
        wait_ready(url, ca)
    except BaseException:
        proc.kill()
        raise
    return Target(name, url, token, ca, proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--serve-uvicorn", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    ap.add_argument("--serve-bare", nargs=5, metavar=("SERVER", "BODY", "PORT", "CERT", "KEY"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve_uvicorn:
        return serve_pocketkube_uvicorn(a.serve_uvicorn[0], int(a.serve_uvicorn[1]))
    if a.serve_bare:
        s, body, port, cert, key = a.serve_bare
        return serve_bare(s, body, int(port), cert, key)

    sizes = (100, 1000) if a.quick else (1000, 10000)
    watchers = 50 if a.quick else a.watchers
    base = Path(tempfile.mkdtemp(prefix="bench-api-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    print(f"state in {base}; GET load: {'wrk' if shutil.which('wrk') else 'httpx'} c={a.concurrency} "
          f"{a.duration:.0f}s; {os.cpu_count()} cores shared by servers and clients", flush=True)
    results: dict[str, dict[str, str]] = {}
    targets: list[Target] = []
    try:
        pk = start_pocketkube_hypercorn(base)
        targets.append(pk)
        port = free_port()
        # The uvicorn server makes its own CA and token in its own data dir.
        uv = start_child("pocketkube/uvicorn", ["--serve-uvicorn", str(base / "uvicorn"), str(port)],
                         f"https://127.0.0.1:{port}", str(base / "uvicorn" / "pki" / "ca.crt"), "")
        uv.token = ServerProcess(base / "uvicorn").token
        targets.append(uv)
        for t in (pk, uv):
            ensure_namespace(t, "bench")
            asyncio.run(create_pods(t, "bench", 1, 1, prefix="one"))
        pod_path = "/api/v1/namespaces/bench/pods/one0"
        import httpx
        body = httpx.get(pk.url + pod_path, verify=pk.tls(), headers=pk.headers()).content
        (base / "pod.json").write_bytes(body)
        cert, key = str(base / "hypercorn/pki/apiserver.crt"), str(base / "hypercorn/pki/apiserver.key")
        for server in ("hypercorn", "uvicorn"):
            port = free_port()
            targets.append(start_child(f"bare/{server}", ["--serve-bare", server, str(base / "pod.json"), str(port),
                                                          cert, key], f"https://127.0.0.1:{port}", pk.ca, "x"))
        for t in targets:
            r = results.setdefault(t.name, {})
            r["GET pod req/s"] = f"{get_rate(t, pod_path, a.duration, a.concurrency):,.0f}"
            print(f"  {t.name}: GET {r['GET pod req/s']} req/s", flush=True)
        for t in (pk, uv):
            r = results[t.name]
            small, big = sizes
            ensure_namespace(t, "list-small")
            ensure_namespace(t, "list-big")
            r["creates/s"] = f"{asyncio.run(create_pods(t, 'list-big', big, a.concurrency)):,.0f}"
            asyncio.run(create_pods(t, "list-small", small, a.concurrency))
            r[f"LIST {small} s"] = f"{list_seconds(t, 'list-small', small):.3f}"
            r[f"LIST {big} s"] = f"{list_seconds(t, 'list-big', big):.3f}"
            ensure_namespace(t, "watch")
            p50, p99, n = asyncio.run(watch_latency(t, "watch", watchers, 10))
            r[f"watch p50/p99 ms ({watchers} w)"] = f"{p50 * 1000:.0f} / {p99 * 1000:.0f} (n={n})"
            print(f"  {t.name}: {r}", flush=True)
    finally:
        for t in targets:
            t.stop()
        shutil.rmtree(base, ignore_errors=True)

    columns = sorted({k for r in results.values() for k in r}, key=lambda k: (not k.startswith("GET"), k))
    widths = [max(len(c), 12) for c in columns]
    print("\n" + f"{'server':22}" + "".join(f" | {c:>{w}}" for c, w in zip(columns, widths)))
    print("-" * (22 + sum(w + 3 for w in widths)))
    for name, r in results.items():
        print(f"{name:22}" + "".join(f" | {r.get(c, '-'):>{w}}" for c, w in zip(columns, widths)))


if __name__ == "__main__":
    main()
