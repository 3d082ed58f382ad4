"""`kubectl port-forward`, through the API server's node proxy to the node agent, into
a busybox httpd: kubectl 1.31+ tunnels SPDY/3.1 in a WebSocket, older ones upgrade
the HTTP/1.1 connection to SPDY/3.1 itself."""
from __future__ import annotations

import os
import re
import subprocess
import urllib.request

import pytest

from tests.harness import kubectl_binary

pytestmark = pytest.mark.podman


@pytest.fixture
def web(cluster, ns):
    return cluster.run_shell_pod(ns, "web", "mkdir -p /www; echo hello-spdy > /www/index.html; "
                                 "dd if=/dev/zero of=/www/big bs=1024 count=2048 2>/dev/null; "
                                 "exec httpd -f -p 8080 -h /www")


def _port_forward(cluster, version: str, ns: str, pod: str, port: int) -> tuple[subprocess.Popen, str]:
    """Start `kubectl port-forward pod/<pod> :<port>`; return it and the local URL it chose."""
    binary = kubectl_binary(version)
    if binary is None:
        pytest.skip(f"kubectl {version} is not installed")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(cluster.base / "kubectl-home")
    proc = subprocess.Popen([str(binary), f"--kubeconfig={cluster.server.kubeconfig}", "port-forward",
                             "-n", ns, f"pod/{pod}", f":{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()  # "Forwarding from 127.0.0.1:NNNNN -> <port>"
    m = re.search(rf"127\.0\.0\.1:(\d+) -> {port}", line)
    if not m:
        _stop(proc)
        raise AssertionError(f"no forwarding line: {line!r} stderr: {proc.stderr.read()}")
    return proc, f"http://127.0.0.1:{m.group(1)}/"


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("version", ["1.27", "1.30", "1.31", "1.33"])
def test_port_forward_serves_two_connections(cluster, ns, web, version):
    proc, url = _port_forward(cluster, version, ns, web, 8080)
    try:
        for _ in range(2):  # each GET is its own connection, so its own pair of SPDY streams
            with urllib.request.urlopen(url, timeout=20) as r:
                assert r.status == 200 and r.read() == b"hello-spdy\n"
        with urllib.request.urlopen(url + "big", timeout=30) as r:  # many frames, past any 64 KiB window
            assert r.read() == bytes(2048 * 1024)
    finally:
        _stop(proc)
        err = proc.stderr.read()
    assert "error" not in err.lower(), err


def test_port_forward_reports_a_closed_port_on_the_error_stream(cluster, ns, web):
    proc, url = _port_forward(cluster, "1.33", ns, web, 9999)  # nothing listens on 9999
    try:
        with pytest.raises(OSError):  # the connection closes without an HTTP answer
            urllib.request.urlopen(url, timeout=20).read()
    finally:
        try:  # kubectl gives up on the pod after an error-stream message
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        _stop(proc)
        err = proc.stderr.read()
    assert "error forwarding port 9999 to pod" in err, err
