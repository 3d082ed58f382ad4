#!/usr/bin/env python
"""Memory of an API server whose watch cache holds N pods (default 100,000): prints numbers.

  python hack/bench/bench_cache_memory.py [--pods 100000] [--backend sqlite|etcd]

One pod is created through the API (so it carries everything the server stores:
defaults, uid, managedFields); N copies of it, renamed, are then written straight
into the store (much quicker than N API creates) with the server stopped. The
server is started again and its RSS (/proc/<pid>/status VmRSS) read: idle, after a
one-item LIST (which loads the watch cache with every pod), and after each of --lists full LISTs (2);
beside each, the peak RSS so far (VmHWM).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import ssl
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess  # noqa: E402

NS = "bench"


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """VmRSS (resident now) or VmHWM (the peak so far), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settled_rss(pid: int, timeout: float = 120.0) -> float:
    """RSS once it stops growing (three readings half a second apart within 1 MiB)."""
    readings = [rss_mib(pid)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        readings.append(rss_mib(pid))
        if len(readings) >= 3 and max(readings[-3:]) - min(readings[-3:]) < 1:
            break
    return readings[-1]


def client(srv: ServerProcess):
    import httpx
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers={"Authorization": f"Bearer {srv.token}"}, timeout=600)


def template_pod(srv: ServerProcess) -> dict:
    with client(srv) as c:
        c.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        r = c.post(f"/api/v1/namespaces/{NS}/pods", json={
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "template", "labels": {"app": "bench", "tier": "cache"}},
            "spec": {"containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"],
                                     "env": [{"name": "MODE", "value": "bench"}]}]}})
        r.raise_for_status()
        return r.json()


async def fill(store, pod: dict, n: int) -> None:
    pod = json.loads(json.dumps(pod))
    pod["metadata"].pop("resourceVersion", None)
    batch = 2000
    for start in range(0, n, batch):
        writes = []
        for i in range(start, min(n, start + batch)):
            pod["metadata"]["name"] = f"pod-{i:06d}"
            pod["metadata"]["uid"] = str(uuid.uuid4())
            writes.append(store.create(f"/registry/pods/{NS}/pod-{i:06d}", json.dumps(pod).encode()))
        await asyncio.gather(*writes)
    await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "etcd"], default="sqlite")
    ap.add_argument("--lists", type=int, default=2, help="full LISTs to make (more show whether RSS levels off)")
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-cache-mem-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    cluster, args = None, ["--endpoint-reconciler-type", "none"]
    if a.backend == "etcd":
        from tests.etcd_cluster import EtcdCluster
        cluster = EtcdCluster(1).start()
        args += ["--etcd-servers", cluster.client_urls[0]]
    srv = ServerProcess(base / "server", extra_args=args)
    try:
        srv.start().wait_ready()
        pod = template_pod(srv)
        srv.stop()
        if cluster is not None:
            from apiserver.storage.etcd import EtcdStore
            store = EtcdStore(cluster.client_urls, compaction_interval=0)
        else:
            from apiserver.storage.sqlite import SQLiteStore
            store = SQLiteStore(base / "server" / "state.db")
        t = time.monotonic()
        asyncio.run(fill(store, pod, a.pods))
        print(f"wrote {a.pods:,} pods ({len(json.dumps(pod)):,} B each) into {a.backend} in "
              f"{time.monotonic() - t:.1f} s", flush=True)

        srv.start().wait_ready()
        pid = srv.proc.pid
        idle = rss_mib(pid)
        rows = [("idle, cache empty", idle, rss_mib(pid, "VmHWM"))]
        with client(srv) as c:
            # A one-item page fills the watch cache (it loads the whole resource) without a big
            # response; the full LISTs then add what decoding and encoding 100k pods leaves behind.
            t = time.monotonic()
            c.get(f"/api/v1/namespaces/{NS}/pods", params={"limit": "1"}).raise_for_status()
            filled = settled_rss(pid)   # on etcd the cache loads in the background
            rows.append((f"after LIST limit=1 (cache filled), {time.monotonic() - t:.1f} s", filled,
                         rss_mib(pid, "VmHWM")))
            for label in (f"after full LIST #{i + 1}" for i in range(a.lists)):
                t = time.monotonic()
                r = c.get(f"/api/v1/namespaces/{NS}/pods")
                r.raise_for_status()
                count = len(r.json()["items"])
                rows.append((f"{label}: {count:,} pods, {len(r.content) / 2**20:,.0f} MiB JSON, "
                             f"{time.monotonic() - t:.1f} s", rss_mib(pid), rss_mib(pid, "VmHWM")))
                del r
        for label, rss, peak in rows:
            print(f"  {label:70} RSS {rss:8,.0f} MiB  peak {peak:8,.0f} MiB")
        for label, rss in (("watch cache alone", rows[1][1]), ("after full LISTs", rows[-1][1])):
            grown = rss - idle
            print(f"{label}: +{grown:,.0f} MiB for {a.pods:,} pods = {grown * 2**20 / a.pods / 1024:,.1f} KiB/pod")
    finally:
        srv.stop()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
