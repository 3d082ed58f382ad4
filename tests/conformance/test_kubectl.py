"""[sig-cli] Kubectl client rows that need only the API (test/e2e/kubectl/kubectl.go)."""
from __future__ import annotations

import json
import re
import ssl
import time
import urllib.request

from tests.conformance.rows import row


@row("Kubectl, check version v1", release="v1.9", needs="API",
     codename="[sig-cli] Kubectl client Kubectl api-versions should check if v1 is in available api versions")
def test_kubectl_api_versions_has_v1(kubectl):
    out = kubectl("api-versions").stdout
    assert "v1" in out.split()


@row("Kubectl, version", release="v1.9", needs="API",
     codename="[sig-cli] Kubectl client Kubectl version should check is all data is printed")
def test_kubectl_version(kubectl):
    out = kubectl("version").stdout
    assert re.search(r"Client Version: v\d+\.\d+", out), out
    assert re.search(r"Server Version: v\d+\.\d+", out), out
    full = json.loads(kubectl("version", "-o", "json").stdout)
    for side in ("clientVersion", "serverVersion"):
        for field in ("major", "minor", "gitCommit", "gitVersion", "goVersion", "platform"):
            assert field in full[side], (side, field)


@row("Kubectl, cluster info", release="v1.9", needs="API",
     codename="[sig-cli] Kubectl client Kubectl cluster-info should check if Kubernetes control plane services is included in cluster-info")
def test_kubectl_cluster_info(kubectl):
    out = re.sub(r"\x1b\[[0-9;]*m", "", kubectl("cluster-info").stdout)
    assert "Kubernetes control plane" in out


@row("Kubectl, proxy port zero", release="v1.9", needs="API",
     codename="[sig-cli] Kubectl client Proxy server should support proxy with --port 0")
def test_kubectl_proxy_port_zero(kubectl):
    proc = kubectl.popen("proxy", "-p", "0", "--disable-filter")
    try:
        line = proc.stdout.readline()
        port = int(re.search(r":(\d+)", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=10) as r:
            body = json.loads(r.read())
        assert body["kind"] == "APIVersions" and "v1" in body["versions"]
    finally:
        proc.kill()
        proc.wait()


@row("Kubectl, proxy socket", release="v1.9", needs="API",
     codename="[sig-cli] Kubectl client Proxy server should support --unix-socket=/path")
def test_kubectl_proxy_unix_socket(kubectl, tmp_path):
    import http.client
    import socket
    path = str(tmp_path / "kubectl-proxy.sock")
    proc = kubectl.popen("proxy", f"--unix-socket={path}")
    try:
        proc.stdout.readline()

        class UnixHTTPConnection(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)

        conn = UnixHTTPConnection("localhost", timeout=10)
        conn.request("GET", "/api/")
        body = json.loads(conn.getresponse().read())
        assert "v1" in body["versions"]
    finally:
        proc.kill()
        proc.wait()


@row("Kubectl, server-side dry-run Pod", release="v1.19", needs="API",
     codename="[sig-cli] Kubectl client Kubectl server-side dry-run should check if kubectl can dry-run update Pods")
def test_kubectl_server_side_dry_run_pod(kubectl, ns, core):
    name = "e2e-test-httpd-pod"
    kubectl("run", name, "--image=localhost/busybox", "--pod-running-timeout=2m0s",
            "--labels=run=" + name, "-n", ns)
    patch = json.dumps({"spec": {"containers": [{"name": name, "image": "localhost/busybox:dry-run"}]}})
    kubectl("patch", "pod", name, "-p", patch, "--dry-run=server", "-n", ns)
    pod = core.read_namespaced_pod(name, ns)
    assert pod.spec.containers[0].image == "localhost/busybox"
    kubectl("delete", "pod", name, "-n", ns, "--grace-period=0", "--force")
