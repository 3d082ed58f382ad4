"""Several API server processes on one real etcd (tests/etcd_cluster.py).

  - a watch (official Python client) on one server sees a write made through the other
  - concurrent Service creates through both never share a clusterIP or nodePort
  - the `kubernetes` Endpoints/EndpointSlice list every live server; a server that
    stops leaves at once, one that is killed leaves when its lease expires
  - /readyz says `[-]etcd failed` (500) while etcd is down, and recovers with it

Servers renew their leases every second (3 s expiry) so nothing here waits long.
"""
from __future__ import annotations

import os
import shutil
import signal
import ssl
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.harness import ServerProcess

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed (hack/setup-etcd.sh)"),
]

LEASE_FLAGS = ["--identity-lease-duration-seconds", "3", "--identity-lease-renew-interval-seconds", "1"]
POLL_S = 20.0


@pytest.fixture(scope="module")
def etcd():
    from tests.etcd_cluster import EtcdCluster

    cluster = EtcdCluster(1).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def cluster_flags(etcd):
    return ["--etcd-servers", etcd.client_urls[0], "--etcd-prefix", f"/multi-{uuid.uuid4().hex[:6]}", *LEASE_FLAGS]


def _start(data_dir, flags, advertise: str) -> ServerProcess:
    srv = ServerProcess(data_dir, extra_args=[*flags, "--advertise-address", advertise]).start()
    try:
        srv.wait_ready()
    except RuntimeError:
        srv.stop()
        raise
    return srv


@pytest.fixture(scope="module")
def servers(tmp_path_factory, cluster_flags):
    root = tmp_path_factory.mktemp("multi")
    started = []
    try:
        started.append(_start(root / "a", cluster_flags, "127.0.0.2"))
        started.append(_start(root / "b", cluster_flags, "127.0.0.3"))
        yield started
    finally:
        for srv in started:
            srv.stop()


def _client(srv: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers={"Authorization": f"Bearer {srv.token}"}, timeout=30)


def _endpoint_ips(c: httpx.Client) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(ip, port) pairs in the kubernetes Endpoints, and in its EndpointSlices."""
    ep = c.get("/api/v1/namespaces/default/endpoints/kubernetes").json()
    from_endpoints = sorted((a["ip"], s["ports"][0]["port"]) for s in ep.get("subsets") or [] for a in s["addresses"])
    slices = c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                   params={"labelSelector": "kubernetes.io/service-name=kubernetes"}).json()["items"]
    from_slices = sorted((addr, s["ports"][0]["port"]) for s in slices for e in s["endpoints"] for addr in e["addresses"])
    return from_endpoints, from_slices


def _wait_endpoints(c: httpx.Client, want: list[tuple[str, int]]) -> None:
    want = sorted(want)
    deadline = time.monotonic() + POLL_S
    got = None
    while time.monotonic() < deadline:
        got = _endpoint_ips(c)
        if got == (want, want):
            return
        time.sleep(0.1)
    raise AssertionError(f"kubernetes endpoints {got}, wanted {want} in both Endpoints and EndpointSlices")


def _watch_endpoint_ips(srv: ServerProcess, rv: str, until_ip: str, out: list[set[str]]) -> None:
    """Append the addresses of each version of the kubernetes Endpoints until one has until_ip."""
    import json
    with _client(srv) as c, c.stream("GET", "/api/v1/namespaces/default/endpoints", params={
            "watch": "true", "resourceVersion": rv, "fieldSelector": "metadata.name=kubernetes",
            "timeoutSeconds": str(int(POLL_S))}) as r:
        for line in r.iter_lines():
            if not line:
                continue
            obj = json.loads(line)["object"]
            ips = {a["ip"] for s in obj.get("subsets") or [] for a in s["addresses"]}
            out.append(ips)
            if until_ip in ips:
                return


def test_watch_on_one_sees_write_through_other(servers):
    kubernetes = pytest.importorskip("kubernetes")
    a, b = servers
    api = kubernetes.config.new_client_from_config(str(b.kubeconfig))
    try:
        v1 = kubernetes.client.CoreV1Api(api)
        rv = v1.list_namespaced_config_map("default").metadata.resource_version
        name = f"from-a-{uuid.uuid4().hex[:6]}"
        seen: list[tuple[str, str, str]] = []
        watching = threading.Event()

        def watch():
            w = kubernetes.watch.Watch()
            watching.set()
            for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=20):
                seen.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))
                if ev["object"].metadata.name == name:
                    w.stop()

        t = threading.Thread(target=watch)
        t.start()
        watching.wait(5)
        with _client(a) as c:
            r = c.post("/api/v1/namespaces/default/configmaps",
                       json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
            assert r.status_code == 201, r.text
            written_rv = r.json()["metadata"]["resourceVersion"]
        t.join(25)
        assert ("ADDED", name, written_rv) in seen, seen
    finally:
        api.close()


def test_concurrent_service_creates_never_share_allocations(servers):
    clients = [_client(s) for s in servers]
    try:
        def create(i: int) -> dict:
            c = clients[i % len(clients)]
            r = c.post("/api/v1/namespaces/default/services", json={
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": f"alloc-{i}"},
                "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080}]}})
            assert r.status_code == 201, r.text
            return r.json()["spec"]

        with ThreadPoolExecutor(16) as pool:
            specs = list(pool.map(create, range(40)))
        ips = [s["clusterIP"] for s in specs]
        node_ports = [s["ports"][0]["nodePort"] for s in specs]
        assert len(set(ips)) == len(ips), sorted(ips)
        assert len(set(node_ports)) == len(node_ports), sorted(node_ports)
        # both servers read back the same allocations
        listed = clients[1].get("/api/v1/namespaces/default/services").json()["items"]
        assert {s["spec"]["clusterIP"] for s in listed if s["metadata"]["name"].startswith("alloc-")} == set(ips)
    finally:
        for c in clients:
            c.close()


def test_kubernetes_endpoints_follow_live_servers(servers, cluster_flags, tmp_path):
    a, b = servers
    with _client(a) as c:
        _wait_endpoints(c, [("127.0.0.2", a.port), ("127.0.0.3", b.port)])

        # a third server joins without the others ever dropping out (a watch sees every version)
        rv = c.get("/api/v1/namespaces/default/endpoints/kubernetes").json()["metadata"]["resourceVersion"]
        versions: list[set[str]] = []
        watcher = threading.Thread(target=_watch_endpoint_ips, args=(a, rv, "127.0.0.4", versions))
        watcher.start()
        killed = _start(tmp_path / "c", cluster_flags, "127.0.0.4")
        _wait_endpoints(c, [("127.0.0.2", a.port), ("127.0.0.3", b.port), ("127.0.0.4", killed.port)])
        watcher.join(POLL_S)
        assert versions and "127.0.0.4" in versions[-1], versions
        assert all({"127.0.0.2", "127.0.0.3"} <= ips for ips in versions), versions

        # ... and dies without saying goodbye: it drops out once its lease expires
        os.killpg(killed.proc.pid, signal.SIGKILL)
        killed.proc.wait()
        _wait_endpoints(c, [("127.0.0.2", a.port), ("127.0.0.3", b.port)])

        # one that stops cleanly removes itself on the way out
        assert b.stop() == 0, b.log()
        _wait_endpoints(c, [("127.0.0.2", a.port)])
        leases = c.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
                       params={"labelSelector": "apiserver.kubernetes.io/identity=kube-apiserver"}).json()["items"]
        assert "127.0.0.3" not in [lease["metadata"]["annotations"]["pocketkube.io/advertise-address"]
                                   for lease in leases]


def _readyz(c: httpx.Client) -> httpx.Response:
    return c.get("/readyz", params={"verbose": "1"})


def test_readyz_follows_etcd(servers, etcd):
    a = servers[0]
    with _client(a) as c:
        r = _readyz(c)
        assert r.status_code == 200 and "[+]etcd ok" in r.text and r.text.endswith("readyz check passed\n"), r.text
        etcd.kill(0)
        try:
            deadline = time.monotonic() + POLL_S
            while (r := _readyz(c)).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert r.status_code == 500, r.text
            assert "[-]etcd failed: reason withheld" in r.text and r.text.endswith("readyz check failed\n")
            assert "[+]ping ok" in r.text
            livez = c.get("/livez", params={"verbose": "1"})
            assert livez.status_code == 500 and "[-]etcd failed" in livez.text
            # an API request is a Status error, not a hang or a bare 500 page
            r = c.get("/api/v1/namespaces/default/configmaps")
            assert r.status_code >= 500 and r.json()["kind"] == "Status", r.text
        finally:
            etcd.restart(0)
        deadline = time.monotonic() + POLL_S
        while (r := _readyz(c)).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r.status_code == 200 and "[+]etcd ok" in r.text, r.text
        assert c.get("/api/v1/namespaces/default/configmaps").status_code == 200


def test_server_started_before_etcd_waits_for_it(tmp_path):
    """No etcd yet: the server listens, answers /readyz 500 and keeps retrying; it gets
    ready once etcd comes up on the address it was given."""
    from tests.etcd_cluster import EtcdCluster, free_port

    port = free_port()
    srv = ServerProcess(tmp_path / "early", extra_args=["--etcd-servers", f"http://127.0.0.1:{port}"]).start()
    cluster = None
    try:
        deadline = time.monotonic() + POLL_S
        r = None
        while time.monotonic() < deadline and srv.alive():
            if srv.ca_file.exists():
                try:
                    with _client(srv) as c:
                        r = _readyz(c)
                    break
                except (httpx.HTTPError, OSError):
                    pass
            time.sleep(0.05)
        assert srv.alive(), srv.log()
        assert r is not None and r.status_code == 500, srv.log()
        assert "[-]etcd failed: reason withheld" in r.text
        assert "[-]poststarthook/bootstrap-controller failed" in r.text
        cluster = EtcdCluster(1, client_ports=[port]).start()
        srv.wait_ready()
        with _client(srv) as c:
            assert c.get("/api/v1/namespaces/kube-system").status_code == 200
    finally:
        srv.stop()
        if cluster is not None:
            cluster.stop()
