"""Two real API server processes on one etcd (--etcd-servers, --etcd-prefix):
what one writes, the other reads and watches; etcdctl shows plain JSON."""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import uuid

import pytest

from tests.harness import kubectl_runner, running_server

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed (hack/setup-etcd.sh)"),
]


def test_two_apiservers_share_etcd(etcd_endpoint, tmp_path):
    kubernetes = pytest.importorskip("kubernetes")
    prefix = f"/pk{uuid.uuid4().hex[:8]}"
    args = ["--etcd-servers", etcd_endpoint, "--etcd-prefix", prefix]
    with running_server(tmp_path / "a", extra_args=args) as a, \
            running_server(tmp_path / "b", extra_args=args) as b:
        kubectl_a = kubectl_runner(a.kubeconfig, tmp_path / "cache-a")
        kubectl_b = kubectl_runner(b.kubeconfig, tmp_path / "cache-b")

        kubectl_a("create", "configmap", "shared", "--from-literal=k=v1")
        got = json.loads(kubectl_b("get", "configmap", "shared", "-o", "json").stdout)
        assert got["data"] == {"k": "v1"}

        raw = subprocess.run(
            ["etcdctl", f"--endpoints={etcd_endpoint}", "get", f"{prefix}/configmaps/default/shared",
             "--print-value-only"],
            capture_output=True, text=True, check=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
        ).stdout
        assert json.loads(raw)["data"] == {"k": "v1"}

        # B watches; A writes; B's watch cache (fed by its own etcd watch) delivers
        client = kubernetes.config.new_client_from_config(str(b.kubeconfig))
        v1 = kubernetes.client.CoreV1Api(client)
        rv = v1.list_namespaced_config_map("default").metadata.resource_version
        seen: list[tuple[str, str]] = []

        def watch():
            w = kubernetes.watch.Watch()
            for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                               timeout_seconds=20):
                seen.append((ev["type"], ev["object"].metadata.name))
                if ev["object"].metadata.name == "from-a":
                    w.stop()

        t = threading.Thread(target=watch)
        t.start()
        kubectl_a("create", "configmap", "from-a", "--from-literal=x=y")
        t.join(30)
        assert ("ADDED", "from-a") in seen
        client.close()


def test_a_value_over_etcds_request_limit_is_413(etcd_endpoint, tmp_path):
    """etcd refuses a value over --max-request-bytes (1.5 MiB by default); the
    client gets 413 RequestEntityTooLarge, as kube-apiserver answers, not a 500."""
    kubernetes = pytest.importorskip("kubernetes")
    args = ["--etcd-servers", etcd_endpoint, "--etcd-prefix", f"/pk{uuid.uuid4().hex[:8]}"]
    with running_server(tmp_path / "a", extra_args=args) as srv:
        api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(srv.kubeconfig)))
        # 960,000 bytes of data (under a ConfigMap's 1 MiB) whose JSON and managedFields
        # (an entry per key) come to about 2 MB: over etcd's limit, under the 3 MiB body limit
        big = {"metadata": {"name": "big"}, "data": {f"k{i:05d}": "x" * 10 for i in range(60_000)}}
        with pytest.raises(kubernetes.client.ApiException) as e:
            api.create_namespaced_config_map("default", big)
        assert e.value.status == 413, e.value.body
        status = json.loads(e.value.body)
        assert status["reason"] == "RequestEntityTooLarge"
        assert "request is too large" in status["message"]
        small = {"metadata": {"name": "small"}, "data": {"k": "v"}}
        assert api.create_namespaced_config_map("default", small).metadata.name == "small"
