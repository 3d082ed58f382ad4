#!/usr/bin/env python
"""Watch fan-out: delivery latency from a write to each of N watchers. Prints numbers.

  python hack/bench/bench_watch_fanout.py [--watchers 100,1000] [--rounds 10] [--clients 2]

One `pocketkube apiserver` (hypercorn, SQLite, TLS). For each N: N HTTP/1.1 watch
streams on one pod (a field selector, as a kubelet's watch of its pods), then one merge
PATCH every 0.3 s stamping the send time; each watcher records now - stamp on receipt.
The watchers are spread over --clients processes so that the readers' own work (TLS
decryption of N streams) is not queued behind one client loop; on two cores the
client processes still share the machine with the server, so compare runs made in
one sitting, and the server CPU per delivery (printed too), which the load moves less.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import ssl
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "hack" / "bench"))

from bench_api import Target, ensure_namespace, pod, start_pocketkube_hypercorn, watch_stamps  # noqa: E402


async def _watchers(url: str, ca: str, token: str, path: str, n: int, rounds: int, ready, go) -> list[float]:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: application/json\r\n\r\n").encode()
    latencies: list[float] = []

    tasks = []
    for i in range(0, n, 50):  # connect in batches: a burst of TLS handshakes overflows the backlog
        batch = [asyncio.create_task(watch_stamps(host, port, ctx, request, rounds, latencies))
                 for _ in range(min(50, n - i))]
        tasks += batch
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    ready.set()
    await asyncio.wait(tasks, timeout=rounds * 0.3 + 30)
    for t in tasks:
        t.cancel()
    return latencies


def _client(args, out) -> None:
    out.put(asyncio.run(_watchers(*args)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(t: Target, ns: str, watchers: int, rounds: int, clients: int) -> tuple[float, float, int, float]:
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
            p = multiprocessing.Process(target=_client, args=(
                (t.url, t.ca, t.token, path, share, rounds, ready, None), out))
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
        latencies = sorted(x for _ in procs for x in out.get(timeout=120))
        cpu = cpu_seconds(pid) - cpu
        for p in procs:
            p.join(10)
    if not latencies:
        return float("nan"), float("nan"), 0, cpu
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731
    return pct(0.50), pct(0.99), len(latencies), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--watchers", default="100,1000")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=2)
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    t = start_pocketkube_hypercorn(base)
    try:
        ensure_namespace(t, "watch")
        for n in (int(x) for x in a.watchers.split(",")):
            p50, p99, got, cpu = measure(t, "watch", n, a.rounds, a.clients)
            print(f"{n:5d} watchers: p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
                  f"({got} of {n * a.rounds} deliveries; server CPU {cpu / a.rounds * 1000:.0f} ms "
                  f"per write, {cpu / max(got, 1) * 1e6:.0f} us per delivery)", flush=True)
    finally:
        t.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
