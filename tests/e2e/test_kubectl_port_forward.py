"""`kubectl port-forward` on kubectl 1.31+ (SPDY/3.1 tunnelled in a WebSocket),
through the API server's node proxy to the node agent, into a busybox httpd."""
from __future__ import annotations

import os
import re
import subprocess
import urllib.request

import pytest

from tests.harness import kubectl_binary

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


@pytest.fixture
def web(cluster, ns):
    cluster.kubectl("run", "web", "-n", ns, f"--image={IMAGE}", "--", "sh", "-c",
                    "mkdir -p /www; echo hello-spdy > /www/index.html; exec httpd -f -p 8080 -h /www")
    cluster.wait_for("web Running", lambda: cluster.get("pod", "web", "-n", ns)["status"].get("phase")
                     == "Running")
    return "web"


@pytest.mark.parametrize("version", ["1.31", "1.33"])
def test_port_forward_serves_two_connections(cluster, ns, web, version):
    binary = kubectl_binary(version)
    if binary is None:
        pytest.skip(f"kubectl {version} is not installed")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(cluster.base / "kubectl-home")
    proc = subprocess.Popen([str(binary), f"--kubeconfig={cluster.server.kubeconfig}", "port-forward",
                             "-n", ns, f"pod/{web}", ":8080"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()  # "Forwarding from 127.0.0.1:NNNNN -> 8080"
        m = re.search(r"127\.0\.0\.1:(\d+) -> 8080", line)
        assert m, f"no forwarding line: {line!r} stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        url = f"http://127.0.0.1:{m.group(1)}/"
        for _ in range(2):  # each GET is its own connection, so its own pair of SPDY streams
            with urllib.request.urlopen(url, timeout=20) as r:
                assert r.status == 200 and r.read() == b"hello-spdy\n"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err = proc.stderr.read()
    assert "error" not in err.lower(), err
