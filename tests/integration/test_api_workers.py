"""`pocketkube apiserver --workers 2`, on SQLite and on etcd: two processes, one port, one store.

Which worker a connection landed on is read from its /metrics (every sample carries
`worker="N"`), so writes and watches are made through connections known to be on
different workers:
  - watches on each worker see every create, made through connections on both, once
    and in resourceVersion order; a watch resumed on the other worker from a
    resourceVersion one worker gave continues exactly after it
  - concurrent Service creates through both workers (official Python client and
    per-worker connections) never share a clusterIP or a nodePort
  - kill -9 of a worker: it is started again and the server keeps answering;
    SIGTERM stops the server with no process left behind (SQLite only: the same code)
  - `pocketkube up --workers 2`: its process is worker 0 beside the controllers, the
    forked worker serves too, and SIGTERM stops both
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from tests.harness import ServerProcess

WORKERS = ["--workers", "2"]
CONNECT_TRIES = 40     # connections opened until both workers have one (the kernel spreads them by address)
WATCH_TIMEOUT_S = 30


@pytest.fixture(scope="module", params=["sqlite", "etcd"])
def workers_server(request, tmp_path_factory):
    args = list(WORKERS)
    cluster = None
    if request.param == "etcd":
        if shutil.which("etcd") is None:
            pytest.skip("etcd not installed (hack/setup-etcd.sh)")
        from tests.etcd_cluster import EtcdCluster

        request.applymarker(pytest.mark.etcd)
        cluster = EtcdCluster(1).start()
        args += ["--etcd-servers", cluster.client_urls[0]]
    srv = ServerProcess(tmp_path_factory.mktemp(f"workers-{request.param}"), extra_args=args).start()
    try:
        srv.wait_ready()
        srv.backend = request.param
        yield srv
    finally:
        srv.stop()
        if cluster is not None:
            cluster.stop()


def _connection(srv: ServerProcess) -> httpx.Client:
    """A client holding one HTTP/1.1 connection (so every request goes to the same worker)."""
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers={"Authorization": f"Bearer {srv.token}"}, timeout=WATCH_TIMEOUT_S,
                        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))


def _worker_of(c: httpx.Client) -> str:
    text = c.get("/metrics").raise_for_status().text
    labels = {line.split('worker="', 1)[1].split('"', 1)[0] for line in text.splitlines() if 'worker="' in line}
    assert len(labels) == 1, f"one worker label per /metrics page, got {labels}"
    return labels.pop()


def _connections_on_each_worker(srv: ServerProcess, stack: ExitStack, per_worker: int = 2) -> dict[str, list]:
    on: dict[str, list[httpx.Client]] = {"0": [], "1": []}
    for _ in range(CONNECT_TRIES):
        if all(len(cs) >= per_worker for cs in on.values()):
            break
        c = stack.enter_context(_connection(srv))
        worker = _worker_of(c)
        if len(on[worker]) < per_worker:
            on[worker].append(c)
    assert all(len(cs) >= per_worker for cs in on.values()), f"connections per worker: { {w: len(cs) for w, cs in on.items()} }"
    return on


def _watch(c: httpx.Client, path: str, rv: str, n: int, out: list, opened: threading.Event) -> None:
    """Append the first n watch events (type, name, resourceVersion) after rv to out."""
    with c.stream("GET", path, params={"watch": "true", "resourceVersion": rv,
                                       "timeoutSeconds": str(WATCH_TIMEOUT_S)}) as r:
        r.raise_for_status()
        opened.set()
        for line in r.iter_lines():
            if line:
                ev = json.loads(line)
                meta = ev["object"]["metadata"]
                out.append((ev["type"], meta["name"], int(meta["resourceVersion"])))
                if len(out) == n:
                    return


def _namespace(c: httpx.Client) -> str:
    name = f"workers-{uuid.uuid4().hex[:6]}"
    c.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                       "metadata": {"name": name}}).raise_for_status()
    return name


def test_watches_on_each_worker_see_every_create_in_order(workers_server):
    srv = workers_server
    with ExitStack() as stack:
        on = _connections_on_each_worker(srv, stack)
        ns = _namespace(on["0"][0])
        path = f"/api/v1/namespaces/{ns}/configmaps"
        rv = on["1"][0].get(path).raise_for_status().json()["metadata"]["resourceVersion"]
        per_writer = 25
        want = 2 * per_writer
        seen: dict[str, list] = {"0": [], "1": []}
        watchers = []
        for worker in ("0", "1"):
            opened = threading.Event()
            t = threading.Thread(target=_watch, args=(on[worker][1], path, rv, want, seen[worker], opened), daemon=True)
            t.start()
            assert opened.wait(WATCH_TIMEOUT_S)
            watchers.append(t)

        def create(worker: str) -> list[int]:
            return [int(on[worker][0].post(path, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                       "metadata": {"name": f"w{worker}-{i}"}, "data": {"i": str(i)}})
                        .raise_for_status().json()["metadata"]["resourceVersion"]) for i in range(per_writer)]

        with ThreadPoolExecutor(2) as pool:
            created = sorted(rv for rvs in pool.map(create, ("0", "1")) for rv in rvs)
        for t in watchers:
            t.join(WATCH_TIMEOUT_S)
        for worker, events in seen.items():
            assert [e[2] for e in events] == created, f"watch on worker {worker}: events out of order or lost"
            assert {e[0] for e in events} == {"ADDED"}

        # resume on worker 1 from a resourceVersion worker 0's watch handed out
        middle = seen["0"][per_writer - 1][2]
        resumed: list = []
        _watch(on["1"][1], path, str(middle), per_writer, resumed, threading.Event())
        assert [e[2] for e in resumed] == [rv for rv in created if rv > middle]


def test_concurrent_service_creates_never_share_an_address_or_node_port(workers_server):
    kubernetes = pytest.importorskip("kubernetes")
    srv = workers_server
    per_worker = 12
    with ExitStack() as stack:
        on = _connections_on_each_worker(srv, stack)
        ns = _namespace(on["0"][0])

        def service(name: str) -> dict:
            return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                    "spec": {"type": "NodePort", "ports": [{"port": 80}], "selector": {"app": name}}}

        def create_through(c: httpx.Client, prefix: str) -> list[dict]:
            return [c.post(f"/api/v1/namespaces/{ns}/services", json=service(f"{prefix}-{i}")).raise_for_status().json()
                    for i in range(per_worker)]

        api = kubernetes.config.new_client_from_config(str(srv.kubeconfig))
        stack.callback(api.close)
        core = kubernetes.client.CoreV1Api(api)

        def create_official(i: int):
            return core.create_namespaced_service(ns, service(f"py-{i}")).to_dict()

        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(create_through, c, f"w{w}c{k}") for w, cs in on.items() for k, c in enumerate(cs)]
            official = list(pool.map(create_official, range(per_worker)))
            made = [s for j in jobs for s in j.result()]
        ips = [s["spec"]["clusterIP"] for s in made] + [s["spec"]["cluster_ip"] for s in official]
        ports = ([s["spec"]["ports"][0]["nodePort"] for s in made]
                 + [s["spec"]["ports"][0]["node_port"] for s in official])
        assert len(ips) == len(set(ips)) == 5 * per_worker, "a clusterIP was handed out twice"
        assert len(ports) == len(set(ports)) == 5 * per_worker, "a nodePort was handed out twice"
        listed = core.list_namespaced_service(ns).items
        assert sorted(s.spec.cluster_ip for s in listed) == sorted(ips)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose (its parent reaps it)
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_worker_is_restarted_and_sigterm_leaves_no_process(workers_server, tmp_path):
    if workers_server.backend != "sqlite":
        pytest.skip("supervision does not depend on the store: checked once, on SQLite")
    srv = ServerProcess(tmp_path / "supervised", extra_args=WORKERS).start()
    try:
        srv.wait_ready()
        first = _children(srv.proc.pid)
        assert len(first) == 2
        os.kill(first[1], signal.SIGKILL)
        deadline = time.monotonic() + WATCH_TIMEOUT_S
        while time.monotonic() < deadline and (len(_children(srv.proc.pid)) < 2 or first[1] in _children(srv.proc.pid)):
            time.sleep(0.05)
        second = _children(srv.proc.pid)
        assert len(second) == 2 and first[1] not in second and first[0] in second
        with ExitStack() as stack:
            on = _connections_on_each_worker(srv, stack, per_worker=1)   # the new worker serves too
            assert on["1"][0].get("/api/v1/namespaces/default").status_code == 200
    finally:
        code = srv.stop()
    assert code == 0, srv.log()
    assert not [p for p in set(first) | set(second) if _alive(p)], "a worker outlived the server"


def test_up_serves_with_workers_beside_its_components(tmp_path):
    """`pocketkube up --workers 2`: its own process is worker 0 (with the controllers); the
    forked worker serves too, a Service written through either gets an address, and
    SIGTERM stops both."""
    srv = ServerProcess(tmp_path / "up", extra_args=[*WORKERS, "--no-nodeagent", "--metrics-bind-address", ""],
                        subcommand="up").start()
    helpers: list[int] = []
    try:
        srv.wait_ready()
        helpers = _children(srv.proc.pid)
        assert len(helpers) == 1, srv.log()
        with ExitStack() as stack:
            on = _connections_on_each_worker(srv, stack, per_worker=1)
            ns = _namespace(on["0"][0])
            ips = [on[w][0].post(f"/api/v1/namespaces/{ns}/services", json={
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{w}"},
                "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}).raise_for_status().json()["spec"]["clusterIP"]
                for w in ("0", "1")]
            assert len(set(ips)) == 2 and all(ips)
            # the controllers (in worker 0's process) see what worker 1 wrote: the endpoints controller
            deadline = time.monotonic() + WATCH_TIMEOUT_S
            while on["1"][0].get(f"/api/v1/namespaces/{ns}/endpoints/s1").status_code != 200:
                assert time.monotonic() < deadline, "no Endpoints for a Service created through worker 1"
                time.sleep(0.1)
    finally:
        code = srv.stop()
    assert code == 0, srv.log()
    assert not [p for p in helpers if _alive(p)], "a worker outlived `up`"
