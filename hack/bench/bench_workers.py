#!/usr/bin/env python
"""`pocketkube apiserver --workers 1` against `--workers N` in one run: prints a table, asserts nothing.

  python hack/bench/bench_workers.py [--duration 10] [--concurrency 32] [--workers 1,2] [--etcd URL]

Each server is started alone (one after the other, so they do not share the cores),
then loaded with wrk over HTTP/1.1 keep-alive, `--concurrency` connections:
  GET     one ~2 KB pod
  create  POST of a new pod per request (names unique per wrk thread)
  update  PUT of a pod as stored with a changed annotation, each wrk thread going round
          its own 256 pods (so no two requests in flight write one pod; no resourceVersion)
and the table gives req/s, p50/p99 from wrk, non-2xx answers, and the server's CPU
(all its processes) in cores over the load. wrk runs on the same cores: the reference
numbers (shared/reference-numbers.md) were measured the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess  # noqa: E402

NS = "bench"
UPDATED_PODS = 512   # wrk thread t updates pods t*256.. in turn: no two requests in flight on one pod
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pod(name: str, **annotations) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "bench"}, "annotations": annotations},
            "spec": {"containers": [{"name": "c", "image": "localhost/busybox", "command": ["sleep", "3600"]}]}}


# wrk scripts: `id` is set per thread by setup(), so names never collide across threads.
_THREADS_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
"""

CREATE_LUA = _THREADS_LUA + """
local n = 0
local head = %(head)s
local tail = %(tail)s
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  n = n + 1
  return wrk.format(nil, "%(path)s", nil, head .. "%(prefix)s-" .. id .. "-" .. n .. tail)
end
"""

UPDATE_LUA = _THREADS_LUA + """
local n = 0
local names = {%(names)s}
local heads = {%(heads)s}
local tails = {%(tails)s}
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
function request()
  n = n + 1
  local per = #names / 2
  local i = id * per + n %% per + 1
  return wrk.format(nil, "%(path)s/" .. names[i], nil, heads[i] .. id .. "-" .. n .. tails[i])
end
"""


def lua_str(s: str) -> str:
    return json.dumps(s)   # a JSON string literal is a valid Lua string literal for this ASCII text


def create_script(path: str, prefix: str) -> str:
    body = json.dumps(pod("NAME"))
    head, tail = body.split("NAME")
    return CREATE_LUA % {"head": lua_str(head), "tail": lua_str(tail), "path": path, "prefix": prefix}


def update_script(path: str, stored: list[dict]) -> str:
    """PUT bodies: the stored pods (a pod's spec may not change, and it carries a generated
    volume name) without resourceVersion, an annotation's value left to the script."""
    names, heads, tails = [], [], []
    for obj in stored:
        obj = json.loads(json.dumps(obj))
        obj["metadata"].pop("resourceVersion", None)
        obj["metadata"].pop("managedFields", None)
        obj["metadata"].setdefault("annotations", {})["bench/n"] = "@N@"
        head, tail = json.dumps(obj).split("@N@")
        names.append(lua_str(obj["metadata"]["name"]))
        heads.append(lua_str(head))
        tails.append(lua_str(tail))
    return UPDATE_LUA % {"names": ", ".join(names), "heads": ", ".join(heads), "tails": ", ".join(tails),
                         "path": path}


def cpu_seconds(pid: int) -> float:
    """CPU time of pid and every process below it (workers), user + system."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def parse_ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def wrk(srv: ServerProcess, path: str, duration: float, concurrency: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{int(duration)}s", "--latency", "--timeout", "10s",
           "-H", f"Authorization: Bearer {srv.token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        if script:
            f.write(script)
            f.flush()
            cmd += ["-s", f.name]
        cpu0, t0, ru0 = cpu_seconds(srv.proc.pid), time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(cmd + [srv.url + path], capture_output=True, text=True).stdout
        elapsed = time.monotonic() - t0
        cores = (cpu_seconds(srv.proc.pid) - cpu0) / elapsed
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cores = (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime) / elapsed
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if not rate:
        print(out, file=sys.stderr)
    return {"req/s": float(rate.group(1)) if rate else float("nan"),
            "p50": parse_ms(pct.get("50", "")), "p99": parse_ms(pct.get("99", "")),
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "errors": errors.group(1) if errors else "",
            "cores": cores, "wrk cores": wrk_cores}


def prepare(srv: ServerProcess) -> list[dict]:
    """The namespace, the pod of the GETs, and the pods to update (returned as stored)."""
    with srv.http_client() as c:
        c.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": NS}}).raise_for_status()
        c.post(f"/api/v1/namespaces/{NS}/pods", json=pod("one")).raise_for_status()
        return [c.post(f"/api/v1/namespaces/{NS}/pods", json=pod(f"upd-{i}")).raise_for_status().json()
                for i in range(UPDATED_PODS)]


def count_pods(srv: ServerProcess) -> int:
    with srv.http_client(timeout=120) as c:
        return len(c.get(f"/api/v1/namespaces/{NS}/pods").raise_for_status().json()["items"])


def measure(workers: int, base: Path, a: argparse.Namespace) -> dict[str, dict]:
    args = ["--workers", str(workers)]
    if a.etcd:
        args += ["--etcd-servers", a.etcd, "--etcd-prefix", f"/bench-workers-{os.getpid()}-{workers}"]
    srv = ServerProcess(base / f"workers-{workers}", extra_args=args).start()
    results: dict[str, dict] = {}
    try:
        srv.wait_ready()
        stored = prepare(srv)
        pods = f"/api/v1/namespaces/{NS}/pods"
        loads = {"GET": (f"{pods}/one", None),
                 "create": (pods, create_script(pods, f"w{workers}")),
                 "update": (pods, update_script(pods, stored))}
        for name, (path, script) in loads.items():
            if a.warmup:
                wrk(srv, path, a.warmup, a.concurrency, script.replace(f"w{workers}-", f"warm{workers}-")
                    if script and name == "create" else script)
            results[name] = r = wrk(srv, path, a.duration, a.concurrency, script)
            print(f"  workers={workers} {name:6}: {r['req/s']:8,.0f} req/s  p50 {r['p50']:6.1f} ms  "
                  f"p99 {r['p99']:6.1f} ms  CPU: server {r['cores']:.2f}, wrk {r['wrk cores']:.2f} cores"
                  + (f"  non-2xx {r['non2xx']}" if r["non2xx"] else "")
                  + (f"  socket errors: {r['errors']}" if r["errors"] else ""), flush=True)
        results["pods"] = {"stored": count_pods(srv)}
    finally:
        srv.stop()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2, help="seconds of each load before the measured one")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--workers", default="1,2", help="worker counts to compare, comma-separated")
    ap.add_argument("--etcd", metavar="URL", help="run on etcd (--etcd-servers URL; 'local': a one-member etcd "
                                                   "started here, in /dev/shm) instead of SQLite")
    ap.add_argument("--data-dir", help="parent of the servers' data dirs (default: a fresh one in /tmp, on disk)")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    counts = [int(w) for w in a.workers.split(",")]
    base = Path(a.data_dir) if a.data_dir else Path(tempfile.mkdtemp(prefix="bench-workers-"))
    print(f"state in {base} ({'etcd ' + a.etcd if a.etcd else 'SQLite'}); wrk -t2 -c{a.concurrency} "
          f"{a.duration:.0f}s per load after {a.warmup:.0f}s warm-up; {len(os.sched_getaffinity(0))} cores "
          f"shared by server and wrk", flush=True)
    runs: dict[int, dict] = {}
    etcd = None
    try:
        if a.etcd == "local":
            from tests.etcd_cluster import EtcdCluster

            etcd = EtcdCluster(1).start()
            a.etcd = etcd.client_urls[0]
        for w in counts:
            runs[w] = measure(w, base, a)
    finally:
        if etcd is not None:
            etcd.stop()
        if not a.data_dir:
            shutil.rmtree(base, ignore_errors=True)

    first = counts[0]
    print(f"\n{'load':8}" + "".join(f" | {'workers=' + str(w):>30}" for w in counts)
          + "".join(f" | {f'{w}/{first}':>6}" for w in counts[1:]))
    print("-" * (8 + 33 * len(counts) + 9 * (len(counts) - 1)))
    for load in ("GET", "create", "update"):
        cells = [f"{runs[w][load]['req/s']:,.0f}/s p50 {runs[w][load]['p50']:.0f} p99 {runs[w][load]['p99']:.0f} ms"
                 for w in counts]
        ratios = [f"{runs[w][load]['req/s'] / runs[first][load]['req/s']:.2f}x" for w in counts[1:]]
        print(f"{load:8}" + "".join(f" | {c:>30}" for c in cells) + "".join(f" | {r:>6}" for r in ratios))
    print("server CPU (cores) " + ", ".join(
        f"workers={w}: " + "/".join(f"{runs[w][x]['cores']:.2f}" for x in ("GET", "create", "update"))
        for w in counts) + "  (GET/create/update)")


if __name__ == "__main__":
    main()
