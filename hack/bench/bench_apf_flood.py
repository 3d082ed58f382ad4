#!/usr/bin/env python
"""API Priority and Fairness under a flood: prints a table, asserts nothing.

  python hack/bench/bench_apf_flood.py [--pods 2000] [--flooders 64] [--duration 10]
  python hack/bench/bench_apf_flood.py --overhead [--requests 3000]

Two runs, each on a fresh `pocketkube apiserver` (SQLite, TLS): APF on (as it ships)
and off (--enable-priority-and-fairness=false). In each:
  idle    the victim's GET of one pod and LIST of its namespace's 10 pods, one request
          at a time (p50/p99 ms), and the admin's GET (exempt level): APF's per-request cost;
  flood   a child process keeps --flooders LISTs of --pods pods in flight as user
          `flooder` (answers and 429s counted) while the victim, user `victim`, measures
          the same GET and LIST again, and times `kubectl get pods` as itself.
--overhead: APF's cost per request alone: two servers side by side (APF on, APF off), the
same GET of one pod sent to each in turn, one at a time, as the admin (exempt level) and
as `victim` (global-default, a seat taken and given back): p50/p99 in microseconds.
Both users are the admin impersonating them (RBAC view); both fall in the
global-default priority level (13 seats of 150), each its own flow (ByUser).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.harness import running_server  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000 if values else float("nan")


def client(srv, user: str | None = None, **kw) -> httpx.Client:
    headers = {"Authorization": f"Bearer {srv.token}"}
    if user:
        headers["Impersonate-User"] = user
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers=headers, timeout=120, **kw)


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "flood"}},
            "spec": {"containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"]}]}}


async def create_pods(srv, ns: str, n: int) -> None:
    async with httpx.AsyncClient(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                                 headers={"Authorization": f"Bearer {srv.token}"}, timeout=60) as c:
        names = iter(range(n))

        async def worker():
            for i in names:
                r = await c.post(f"/api/v1/namespaces/{ns}/pods", json=pod(f"p{i}"))
                r.raise_for_status()
        await asyncio.gather(*(worker() for _ in range(16)))


def setup(srv, pods: int) -> None:
    with client(srv) as c:
        for ns in ("flood", "quiet"):
            c.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        c.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json={
            "metadata": {"name": "bench-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u}
                         for u in ("flooder", "victim")]}).raise_for_status()
    asyncio.run(create_pods(srv, "flood", pods))
    asyncio.run(create_pods(srv, "quiet", 10))


def measure(srv, user: str | None, duration: float) -> dict[str, list[float]]:
    """GET one pod and LIST 10 pods alternately, one at a time, for `duration` seconds."""
    times: dict[str, list[float]] = {"GET": [], "LIST": []}
    codes: dict[int, int] = {}
    with client(srv, user) as c:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            for verb, path in (("GET", "/api/v1/namespaces/quiet/pods/p0"), ("LIST", "/api/v1/namespaces/quiet/pods")):
                t0 = time.perf_counter()
                r = c.get(path)
                times[verb].append(time.perf_counter() - t0)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1
    times["codes"] = codes
    return times


def flood(url: str, token: str, ca: str, flooders: int, duration: float, out) -> None:
    """Child process: `flooders` LISTs of the flood namespace in flight for `duration` s."""
    async def main():
        counts: dict[int, int] = {}
        async with httpx.AsyncClient(base_url=url, verify=ssl.create_default_context(cafile=ca), timeout=120,
                                     headers={"Authorization": f"Bearer {token}", "Impersonate-User": "flooder"},
                                     limits=httpx.Limits(max_connections=flooders)) as c:
            deadline = time.monotonic() + duration

            async def worker():
                while time.monotonic() < deadline:
                    r = await c.get("/api/v1/namespaces/flood/pods")
                    counts[r.status_code] = counts.get(r.status_code, 0) + 1
                    if r.status_code == 429:   # as client-go: wait what Retry-After says
                        await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            await asyncio.gather(*(worker() for _ in range(flooders)))
        out.send(counts)
    asyncio.run(main())


def kubectl_times(srv, n: int = 5) -> list[float]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return []
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([kubectl, "--kubeconfig", str(srv.token_kubeconfig), "--as", "victim", "get", "pods",
                        "-n", "quiet"], check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def run(apf: bool, a) -> dict[str, str]:
    base = Path(tempfile.mkdtemp(prefix="bench-apf-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    row: dict[str, str] = {}
    try:
        args = [] if apf else ["--enable-priority-and-fairness=false"]
        with running_server(base / "srv", extra_args=args) as srv:
            setup(srv, a.pods)
            idle = measure(srv, "victim", a.idle)
            admin = measure(srv, None, a.idle)
            row["idle victim GET p50/p99"] = f"{pct(idle['GET'], .5):.1f} / {pct(idle['GET'], .99):.1f}"
            row["idle victim LIST p50/p99"] = f"{pct(idle['LIST'], .5):.1f} / {pct(idle['LIST'], .99):.1f}"
            row["idle admin GET p50/p99"] = f"{pct(admin['GET'], .5):.1f} / {pct(admin['GET'], .99):.1f}"
            recv, send = multiprocessing.Pipe(duplex=False)
            child = multiprocessing.Process(target=flood, args=(srv.url, srv.token, str(srv.ca_file), a.flooders,
                                                                a.duration + 4, send))
            child.start()
            time.sleep(2)   # let the flood build up before measuring
            loaded = measure(srv, "victim", a.duration - 2)
            ktimes = kubectl_times(srv)
            flood_counts = recv.recv()
            child.join()
            row["flood victim GET p50/p99"] = f"{pct(loaded['GET'], .5):.1f} / {pct(loaded['GET'], .99):.1f}"
            row["flood victim LIST p50/p99"] = f"{pct(loaded['LIST'], .5):.1f} / {pct(loaded['LIST'], .99):.1f}"
            row["flood victim n, codes"] = f"{len(loaded['GET']) + len(loaded['LIST'])} {loaded['codes']}"
            row["kubectl get pods s (max)"] = f"{max(ktimes):.2f}" if ktimes else "-"
            row["flooder LISTs answered"] = str(flood_counts)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return row


def overhead(a) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-apf-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        with running_server(base / "on") as on, \
                running_server(base / "off", extra_args=["--enable-priority-and-fairness=false"]) as off:
            for srv in (on, off):
                setup(srv, 1)
            print(f"{'GET one pod, one at a time':34} | {'APF on p50/p99 us':>20} | {'APF off p50/p99 us':>20}")
            for user in (None, "victim"):
                clients = [client(on, user), client(off, user)]
                times: list[list[float]] = [[], []]
                for i in range(a.requests + 200):
                    for k in (0, 1) if i % 2 else (1, 0):   # alternate who goes first
                        t0 = time.perf_counter()
                        clients[k].get("/api/v1/namespaces/quiet/pods/p0").raise_for_status()
                        if i >= 200:   # the first ones warm connections and caches
                            times[k].append(time.perf_counter() - t0)
                for c in clients:
                    c.close()
                cells = [f"{pct(t, .5) * 1000:.0f} / {pct(t, .99) * 1000:.0f}" for t in times]
                print(f"{user or 'admin (exempt)':34} | {cells[0]:>20} | {cells[1]:>20}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=2000, help="pods in each flooding LIST")
    ap.add_argument("--flooders", type=int, default=64, help="LISTs the flooder keeps in flight")
    ap.add_argument("--duration", type=float, default=10, help="seconds of flood measured")
    ap.add_argument("--idle", type=float, default=3, help="seconds of idle measurement per user")
    ap.add_argument("--overhead", action="store_true", help="only APF's cost per request (see above)")
    ap.add_argument("--requests", type=int, default=3000, help="GETs per server and user for --overhead")
    a = ap.parse_args()
    if a.overhead:
        return overhead(a)
    rows = {}
    for apf in (True, False):
        name = "APF on" if apf else "APF off"
        rows[name] = run(apf, a)
        print(f"{name}: {rows[name]}", flush=True)
    print(f"\n{a.flooders} LISTs of {a.pods} pods in flight from one user; times in ms unless said")
    keys = list(next(iter(rows.values())))
    print(f"{'':28}" + "".join(f" | {n:>40}" for n in rows))
    for k in keys:
        print(f"{k:28}" + "".join(f" | {rows[n][k]:>40}" for n in rows))


if __name__ == "__main__":
    main()
