"""`pocketkube snapshot save/restore`: a restored cluster serves every object it had when the
snapshot was taken, with the same resourceVersion, and nothing written later. SQLite, and
etcd (saved through pocketkube, restored with etcd's own tool as upstream does)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.harness import REPO_ROOT

SKIPPED_GROUPS = ("coordination.k8s.io",)   # leases the server renews on its own


def pocketkube(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pocketkube", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


def everything(http) -> dict[tuple[str, str, str, str], str]:
    """(apiVersion, resource, namespace, name) -> resourceVersion of every listable object."""
    versions = ["v1"] + [g["preferredVersion"]["groupVersion"] for g in http.get("/apis").json()["groups"]
                         if g["name"] not in SKIPPED_GROUPS]
    seen: dict = {}
    for gv in versions:
        prefix = "/api/v1" if gv == "v1" else f"/apis/{gv}"
        for res in http.get(prefix).json()["resources"]:
            if "/" in res["name"] or "list" not in res.get("verbs", ()):
                continue
            r = http.get(f"{prefix}/{res['name']}")
            assert r.status_code == 200, (res["name"], r.text)
            for item in r.json()["items"]:
                meta = item["metadata"]
                # objects computed on each read (componentstatuses) have no resourceVersion, as upstream's
                seen[(gv, res["name"], meta.get("namespace", ""), meta["name"])] = meta.get("resourceVersion", "")
    return seen


@pytest.fixture
def http_for():
    import ssl

    import httpx
    clients = []

    def make(srv):
        c = httpx.Client(base_url=srv.url, verify=ssl.create_default_context(cafile=str(srv.ca_file)), timeout=30,
                         headers={"Authorization": f"Bearer {srv.token}"})
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def write_some(http) -> None:
    http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "snap"}})
    for i in range(20):
        http.post("/api/v1/namespaces/snap/configmaps", json={
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
    http.post("/api/v1/namespaces/snap/secrets", json={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}})
    http.patch("/api/v1/namespaces/snap/configmaps/cm-3", json={"data": {"i": "three"}},
               headers={"content-type": "application/merge-patch+json"})
    http.delete("/api/v1/namespaces/snap/configmaps/cm-4")


def write_more(http) -> None:
    http.post("/api/v1/namespaces/snap/configmaps", json={
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after-the-snapshot"}})
    http.delete("/api/v1/namespaces/snap/configmaps/cm-0")


def check_restored(http, before: dict) -> None:
    assert everything(http) == before
    assert http.get("/api/v1/namespaces/snap/configmaps/cm-3").json()["data"] == {"i": "three"}
    assert http.get("/api/v1/namespaces/snap/configmaps/after-the-snapshot").status_code == 404
    assert http.get("/api/v1/namespaces/snap/configmaps/cm-0").status_code == 200


def test_snapshot_restore_brings_back_every_object_and_resource_version(server_factory, http_for, tmp_path,
                                                                        kubectl_cache_dir):
    from tests.harness import kubectl_runner

    data = tmp_path / "cluster"
    args = ["--endpoint-reconciler-type", "none"]
    srv = server_factory(data_dir=data, extra_args=args)
    http = http_for(srv)
    write_some(http)
    before = everything(http)
    list_rv = http.get("/api/v1/namespaces/snap/configmaps").json()["metadata"]["resourceVersion"]

    snap = tmp_path / "backup.db"
    cp = pocketkube("snapshot", "save", str(snap), "--data-dir", str(data))   # while the server runs
    assert cp.returncode == 0, cp.stderr
    assert "Snapshot saved at" in cp.stdout

    write_more(http)
    port = srv.port

    cp = pocketkube("snapshot", "restore", str(snap), "--data-dir", str(data))
    assert cp.returncode == 1 and "is in use: stop the server" in cp.stderr   # refused while it runs
    srv.stop()
    cp = pocketkube("snapshot", "restore", str(snap), "--data-dir", str(data))
    assert cp.returncode == 0, cp.stderr

    restored = server_factory(data_dir=data, port=port, extra_args=args)
    http = http_for(restored)
    check_restored(http, before)
    assert int(http.get("/api/v1/namespaces/snap/configmaps").json()["metadata"]["resourceVersion"]) >= int(list_rv)

    kubectl = kubectl_runner(restored.kubeconfig, kubectl_cache_dir)
    out = kubectl("get", "configmaps", "-n", "snap", "-o",
                  "custom-columns=NAME:.metadata.name,RV:.metadata.resourceVersion", "--no-headers").stdout
    shown = dict(line.split() for line in out.splitlines())
    assert shown == {name: rv for (gv, res, ns, name), rv in before.items() if res == "configmaps" and ns == "snap"}


def test_restore_refuses_what_is_not_a_snapshot(tmp_path):
    bogus = tmp_path / "not-a-db"
    bogus.write_bytes(b"hello" * 1000)
    cp = pocketkube("snapshot", "restore", str(bogus), "--data-dir", str(tmp_path / "d"))
    assert cp.returncode == 1 and "not a pocketkube SQLite snapshot" in cp.stderr
    cp = pocketkube("snapshot", "save", str(tmp_path / "x.db"), "--data-dir", str(tmp_path / "nowhere"))
    assert cp.returncode == 1 and "no store at" in cp.stderr


@pytest.mark.etcd
@pytest.mark.skipif(shutil.which("etcd") is None or shutil.which("etcdctl") is None, reason="etcd not installed")
def test_etcd_snapshot_saved_by_pocketkube_restores_with_etcdctl(server_factory, http_for, tmp_path):
    from tests.etcd_cluster import EtcdCluster

    with EtcdCluster(1) as etcd:
        args = ["--endpoint-reconciler-type", "none", "--etcd-servers", etcd.client_urls[0]]
        srv = server_factory(data_dir=tmp_path / "cluster", extra_args=args)
        http = http_for(srv)
        write_some(http)
        before = everything(http)
        snap = tmp_path / "etcd.snap"
        cp = pocketkube("snapshot", "save", str(snap), "--etcd-servers", etcd.client_urls[0])
        assert cp.returncode == 0, cp.stderr
        write_more(http)
        port = srv.port
        srv.stop()

        # etcd's own restore into the member's data dir, then the same member started on it
        etcd.kill(0)
        member_dir = os.path.join(etcd.dir, etcd.names[0])
        shutil.rmtree(member_dir)
        peer = f"http://127.0.0.1:{etcd.peer_ports[0]}"
        cp = subprocess.run(["etcdctl", "snapshot", "restore", str(snap), "--data-dir", member_dir,
                             "--name", etcd.names[0], "--initial-cluster", f"{etcd.names[0]}={peer}",
                             "--initial-cluster-token", etcd.token, "--initial-advertise-peer-urls", peer],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "ETCDCTL_API": "3"})
        assert cp.returncode == 0, cp.stderr
        etcd.restart(0)

        restored = server_factory(data_dir=tmp_path / "cluster", port=port, extra_args=args)
        check_restored(http_for(restored), before)
