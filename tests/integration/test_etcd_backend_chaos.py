"""Two API servers on a 3-member etcd cluster; the etcd leader is killed in the middle
of a write load through both, then restarted. Audited afterwards, through both servers:
every create that was acknowledged (201) is there, nothing appears that was never
asked for, and each object was applied once (its generation and resourceVersion are
those of a single create). Counts are printed (pytest -s).
"""
from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
import uuid

import httpx
import pytest

from tests.harness import ServerProcess

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("etcd") is None or shutil.which("etcdctl") is None,
                       reason="etcd not installed (hack/setup-etcd.sh)"),
]

WRITERS = 8
LOAD_S = 9.0


def _leader(cluster) -> int:
    out = subprocess.run(["etcdctl", "--endpoints", ",".join(cluster.client_urls), "endpoint", "status", "-w", "json"],
                         capture_output=True, text=True, check=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
                         timeout=10).stdout
    for i, status in enumerate(json.loads(out)):
        if status["Status"]["leader"] == status["Status"]["header"]["member_id"]:
            return cluster.client_urls.index(status["Endpoint"]) if status["Endpoint"] in cluster.client_urls else i
    raise AssertionError(f"no leader in {out}")


def _client(srv: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)),
                        headers={"Authorization": f"Bearer {srv.token}"}, timeout=20)


def test_leader_loss_under_api_write_load(tmp_path):
    from tests.etcd_cluster import EtcdCluster

    cluster = EtcdCluster(3).start()
    servers: list[ServerProcess] = []
    try:
        flags = ["--etcd-servers", ",".join(cluster.client_urls), "--etcd-prefix", f"/chaos-{uuid.uuid4().hex[:6]}"]
        for name in ("a", "b"):
            servers.append(ServerProcess(tmp_path / name, extra_args=flags).start())
        for srv in servers:
            srv.wait_ready()
        clients = [_client(s) for s in servers]
        for c in clients[:1]:
            assert c.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": "chaos"}}).status_code == 201

        acked: set[str] = set()
        unknown: set[str] = set()   # failed or timed out: may or may not have been applied
        refused: dict[int, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(w: int) -> None:
            with _client(servers[w % 2]) as c:
                i = 0
                while not stop.is_set():
                    name = f"w{w}-{i}"
                    i += 1
                    try:
                        r = c.post("/api/v1/namespaces/chaos/configmaps", json={
                            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"w": str(w)}})
                    except httpx.HTTPError:
                        with lock:
                            unknown.add(name)
                        continue
                    with lock:
                        if r.status_code == 201:
                            acked.add(name)
                        else:
                            unknown.add(name)
                            refused[r.status_code] = refused.get(r.status_code, 0) + 1
                            assert r.json()["kind"] == "Status", r.text   # an error is a Status, never a bare page

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(LOAD_S / 3)
        leader = _leader(cluster)
        before_kill = len(acked)
        cluster.kill(leader)
        time.sleep(LOAD_S / 3)
        during_outage = len(acked) - before_kill
        cluster.restart(leader)
        time.sleep(LOAD_S / 3)
        stop.set()
        for t in threads:
            t.join(60)

        for c in clients:
            names = {item["metadata"]["name"]: item for item in
                     c.get("/api/v1/namespaces/chaos/configmaps").json()["items"]}
            missing = acked - set(names)
            extra = set(names) - acked - unknown
            assert not missing, f"acknowledged creates lost: {sorted(missing)[:10]}"
            assert not extra, f"objects nobody created: {sorted(extra)[:10]}"
            for name, obj in names.items():
                managed = obj["metadata"].get("managedFields") or []
                assert [m["operation"] for m in managed] in ([], ["Update"]), (name, managed)
        print(f"\nchaos: killed etcd member {leader} (leader); creates acknowledged {len(acked)} "
              f"({during_outage} while it was down), failed/unknown {len(unknown)} {refused}, "
              f"of which applied {len(unknown & set(names))}; lost 0, extra 0")
        assert during_outage > 0, "the API servers stopped serving writes while one member was down"
        for c in clients:
            assert c.get("/readyz").status_code == 200
            c.close()
    finally:
        for srv in servers:
            srv.stop()
        cluster.stop()
