"""Secrets encrypted at rest (--encryption-provider-config), on SQLite and on etcd.

What is stored is read behind the API server's back (Python's sqlite3 on
state.db, etcdctl on etcd): it carries upstream's `k8s:enc:<provider>:v1:<key>:`
prefix and no plaintext, while kubectl reads the Secret as usual. A key rotation
as the Kubernetes docs describe it (new key first, then `kubectl get secrets -A
-o json | kubectl replace -f -`) moves every Secret to the new key.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import sys
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.harness import kubectl_runner, running_server

KEY1 = base64.b64encode(os.urandom(32)).decode()
KEY2 = base64.b64encode(os.urandom(32)).decode()


def config(path: Path, providers: str) -> Path:
    path.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
                    f"- resources: [secrets]\n  providers:\n{providers}")
    return path


ONLY_KEY1 = f"  - aescbc: {{keys: [{{name: key1, secret: {KEY1}}}]}}\n  - identity: {{}}\n"
KEY2_THEN_KEY1 = (f"  - aesgcm: {{keys: [{{name: key2, secret: {KEY2}}}]}}\n"
                  f"  - aescbc: {{keys: [{{name: key1, secret: {KEY1}}}]}}\n")
ONLY_KEY2 = f"  - aesgcm: {{keys: [{{name: key2, secret: {KEY2}}}]}}\n"


@pytest.fixture(params=["sqlite", "etcd"])
def backend(request, tmp_path):
    """(extra server flags, raw(key) -> bytes read straight from the store)."""
    if request.param == "sqlite":
        db = tmp_path / "data" / "state.db"

        def raw(key: str) -> bytes:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1",
                                   (key,)).fetchone()
            finally:
                conn.close()
            return bytes(row[0])
        return [], raw
    if shutil.which("etcd") is None or shutil.which("etcdctl") is None:
        pytest.skip("etcd not installed (hack/setup-etcd.sh)")
    endpoint = request.getfixturevalue("etcd_endpoint")
    prefix = f"/enc{uuid.uuid4().hex[:8]}"

    def raw(key: str) -> bytes:
        return subprocess.run(["etcdctl", f"--endpoints={endpoint}", "get", prefix + key.removeprefix("/registry"),
                               "--print-value-only"], capture_output=True, check=True,
                              env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}).stdout.rstrip(b"\n")
    return ["--etcd-servers", endpoint, "--etcd-prefix", prefix], raw


def test_secrets_are_encrypted_at_rest_and_a_key_rotation_moves_them(backend, tmp_path):
    flags, raw = backend
    data = tmp_path / "data"
    password = f"hunter2-{uuid.uuid4().hex[:6]}"
    b64 = base64.b64encode(password.encode())

    def start(providers: str):
        cfg = config(tmp_path / f"enc-{uuid.uuid4().hex[:4]}.yaml", providers)
        return running_server(data, extra_args=[*flags, "--encryption-provider-config", str(cfg)])

    def read_password(kubectl) -> str:
        out = kubectl("get", "secret", "db", "-o", "jsonpath={.data.password}").stdout
        return base64.b64decode(out).decode()

    with start(ONLY_KEY1) as srv:
        kubectl = kubectl_runner(srv.kubeconfig, tmp_path / "cache")
        kubectl("create", "secret", "generic", "db", f"--from-literal=password={password}")
        kubectl("create", "configmap", "plain", "--from-literal=colour=blue")
        stored = raw("/registry/secrets/default/db")
        assert stored.startswith(b"k8s:enc:aescbc:v1:key1:")
        assert password.encode() not in stored and b64 not in stored
        assert json.loads(raw("/registry/configmaps/default/plain"))["data"] == {"colour": "blue"}
        assert read_password(kubectl) == password

    # rotation: the new key writes, the old one still reads
    with start(KEY2_THEN_KEY1) as srv:
        kubectl = kubectl_runner(srv.kubeconfig, tmp_path / "cache")
        assert read_password(kubectl) == password
        assert raw("/registry/secrets/default/db").startswith(b"k8s:enc:aescbc:v1:key1:")
        everything = kubectl("get", "secrets", "-A", "-o", "json").stdout
        kubectl("replace", "-f", "-", input=everything)
        assert raw("/registry/secrets/default/db").startswith(b"k8s:enc:aesgcm:v1:key2:")

    # the old key is gone from the configuration: everything is still readable
    with start(ONLY_KEY2) as srv:
        kubectl = kubectl_runner(srv.kubeconfig, tmp_path / "cache")
        assert read_password(kubectl) == password
        listed = json.loads(kubectl("get", "secrets", "-A", "-o", "json").stdout)
        assert "db" in {s["metadata"]["name"] for s in listed["items"]}


def test_a_bad_configuration_stops_the_start_with_a_message(tmp_path):
    cfg = config(tmp_path / "bad.yaml", "  - aescbc: {keys: [{name: k, secret: c2hvcnQ=}]}\n")
    cp = subprocess.run([sys.executable, "-m", "pocketkube", "apiserver",
                         "--data-dir", str(tmp_path / "d"), "--secure-port", "0",
                         "--encryption-provider-config", str(cfg)],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode != 0
    assert "aescbc keys must be 16 or 24 or 32 bytes long" in cp.stderr


def test_the_data_directory_and_database_are_private(server):
    data = Path(server.data_dir)
    assert data.stat().st_mode & 0o777 == 0o700
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        f = data / name
        if f.exists():
            assert f.stat().st_mode & 0o777 == 0o600, name
