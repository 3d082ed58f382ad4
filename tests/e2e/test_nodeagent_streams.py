"""kubectl logs / exec and the Python client's exec and port-forward, through the
API server's node proxy to the node agent's kubelet API."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.e2e.conftest import pod_manifest
from tests.e2e.terminal import KubectlTerminal
from tests.harness import kubectl_binary

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


@pytest.fixture
def chatty(cluster, ns):
    """A pod that logs three lines, then serves HTTP (for port-forward) until deleted."""
    return cluster.run_shell_pod(ns, "chatty", "echo one; echo two; echo three >&2; mkdir -p /www; "
                                 "echo hello-pf > /www/index.html; exec httpd -f -p 8080 -h /www")


def test_logs_with_options(cluster, ns, chatty):
    out = cluster.wait_for("three log lines", lambda: (lambda s: s if s.count("\n") == 3 else None)(
        cluster.kubectl("logs", chatty, "-n", ns).stdout))
    assert out == "one\ntwo\nthree\n"
    assert cluster.kubectl("logs", chatty, "-n", ns, "--tail=1").stdout == "three\n"
    stamped = cluster.kubectl("logs", chatty, "-n", ns, "--timestamps", "--tail=1").stdout
    assert stamped.endswith("Z three\n") and stamped[:4].isdigit()
    assert cluster.kubectl("logs", chatty, "-n", ns, "--limit-bytes=5").stdout == "one\nt"
    assert cluster.kubectl("logs", chatty, "-n", ns, "--since=1h").stdout == out
    bad = cluster.kubectl("logs", chatty, "-n", ns, "-c", "nope", check=False)
    assert bad.returncode != 0 and "container nope is not valid for pod chatty" in bad.stderr


def test_logs_follow_streams_until_the_container_ends(cluster, ns):
    cluster.kubectl("run", "ticker", "-n", ns, f"--image={IMAGE}", "--restart=Never", "--",
                    "sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 1; done")
    cluster.wait_for("ticker started", lambda: cluster.get("pod", "ticker", "-n", ns)["status"].get("phase")
                     in ("Running", "Succeeded"))
    out = cluster.kubectl("logs", "-f", "ticker", "-n", ns, timeout=30).stdout
    assert out == "tick 1\ntick 2\ntick 3\n"


@pytest.mark.parametrize("version", ["1.27", "1.29", "1.30", "1.33"])   # SPDY before 1.30, WebSocket after
def test_exec_exit_codes_and_stdin(cluster, ns, chatty, version):
    cp = cluster.kubectl("exec", chatty, "-n", ns, "--", "sh", "-c", "echo out; echo err >&2; exit 7",
                         version=version, check=False)
    assert cp.returncode == 7 and cp.stdout == "out\n" and "err\n" in cp.stderr
    cp = cluster.kubectl("exec", "-i", chatty, "-n", ns, "--", "sh", "-c", "tr a-z A-Z", input="piped\n",
                         version=version)
    assert cp.stdout == "PIPED\n"


@pytest.mark.parametrize("version", ["1.27", "1.33"])    # SPDY's resize stream, WebSocket's resize channel
def test_exec_interactive_tty(cluster, ns, chatty, version):
    binary = kubectl_binary(version)
    if binary is None:
        pytest.skip(f"kubectl {version} is not installed")
    term = KubectlTerminal(binary, cluster.server.kubeconfig, cluster.base / "kubectl-home",
                           "exec", "-it", chatty, "-n", ns, "--", "sh", rows=33, cols=111, timeout=15)
    term.drain_until(b"# ")
    term.write(b"tty; stty size; echo $((6*7))\r")
    term.drain_until(b"42")
    term.write(b"exit 5\r")
    term.drain_until(b"exit code 5")
    _, status = os.waitpid(term.pid, 0)
    os.close(term.fd)
    out = term.out
    assert b"/dev/pts/" in out and b"42" in out and b"33 111" in out
    assert os.waitstatus_to_exitcode(status) == 5


def test_python_client_exec_and_portforward(cluster, ns, chatty):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import portforward, stream
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(cluster.server.kubeconfig), client_configuration=cfg)
    api = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(cfg))
    out = stream(api.connect_get_namespaced_pod_exec, chatty, ns, command=["sh", "-c", "echo via-python"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "via-python\n"
    pf = portforward(api.connect_get_namespaced_pod_portforward, chatty, ns, ports="8080")
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.settimeout(10)
    sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while b"hello-pf" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    pf.close()
    assert b"200 OK" in data and b"hello-pf" in data


def test_kubelet_api_only_answers_the_api_server(cluster):
    """Through the API server (nodes/proxy) it answers; directly, without a
    CA-signed client certificate, the TLS handshake is refused."""
    import ssl
    import urllib.error
    import urllib.request
    assert cluster.kubectl("get", "--raw", f"/api/v1/nodes/{cluster.node}/proxy/healthz").stdout == "ok"
    pods = json.loads(cluster.kubectl("get", "--raw", f"/api/v1/nodes/{cluster.node}/proxy/pods").stdout)
    assert pods["kind"] == "PodList"
    node = cluster.get("node", cluster.node)
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        host = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        urllib.request.urlopen(f"https://{host}:{port}/healthz", context=ctx, timeout=5).read()


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_attach_with_stdin(cluster, ns, version):
    manifest = pod_manifest("att", {"name": "c", "image": IMAGE, "stdin": True, "stdinOnce": True,
                                    "command": ["sh", "-c", "read line; echo got $line"]})
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    cluster.wait_for("att Running", lambda: cluster.get("pod", "att", "-n", ns)["status"].get("phase") == "Running")
    cp = cluster.kubectl("attach", "-i", "att", "-c", "c", "-n", ns, input="hi\n", timeout=30, version=version)
    assert "got hi" in cp.stdout
    cluster.wait_for("att Succeeded", lambda: cluster.get("pod", "att", "-n", ns)["status"].get("phase")
                     == "Succeeded")


@pytest.mark.parametrize("version", ["1.27", "1.33"])    # SPDY, WebSocket
def test_attach_interactive_tty(cluster, ns, version):
    """kubectl attach -it under a terminal: keystrokes reach the container's own shell on its
    tty, the terminal's size follows, and the shell's exit ends kubectl."""
    binary = kubectl_binary(version)
    if binary is None:
        pytest.skip(f"kubectl {version} is not installed")
    manifest = pod_manifest("shell", {"name": "c", "image": IMAGE, "stdin": True, "tty": True, "command": ["sh"]})
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    cluster.wait_for("shell Running", lambda: cluster.get("pod", "shell", "-n", ns)["status"].get("phase")
                     == "Running")
    term = KubectlTerminal(binary, cluster.server.kubeconfig, cluster.base / "kubectl-home",
                           "attach", "-it", "shell", "-c", "c", "-n", ns, rows=29, cols=97, timeout=20)
    reaped = False
    try:
        term.drain_until(b"pressing enter")   # kubectl's hint: the shell printed its prompt before we came
        term.write(b"\r")
        term.drain_until(b"# ")             # a fresh prompt: attached
        term.write(b"tty; stty size; echo $((6*7))\r")
        term.drain_until(b"42\r\n")
        term.write(b"exit 3\r")
        deadline = time.monotonic() + 30
        while not reaped and time.monotonic() < deadline:
            term.drain_until(b"never printed", timeout=0.2)   # keep reading so kubectl never blocks on output
            reaped = os.waitpid(term.pid, os.WNOHANG)[0] == term.pid
        assert reaped, f"kubectl attach still running after the shell exited: {term.out[-500:]!r}"
    finally:
        if not reaped:
            os.kill(term.pid, 9)
            os.waitpid(term.pid, 0)
        os.close(term.fd)
    out = term.out
    # a container's own terminal may be named /dev/console (the runtime binds its pty there)
    assert (b"/dev/pts/" in out or b"/dev/console" in out) and b"not a tty" not in out, out[-1000:]
    assert b"29 97" in out and b"42" in out, out[-1000:]
    done = cluster.wait_for("shell ended", lambda: (cluster.get("pod", "shell", "-n", ns)["status"]
                                                    .get("containerStatuses") or [{}])[0].get("state", {})
                            .get("terminated"))
    assert done["exitCode"] == 3


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_cp_both_ways(cluster, ns, chatty, version, tmp_path):
    """kubectl cp runs tar through exec: into the pod on stdin, out of it on stdout."""
    src = tmp_path / "up"
    src.mkdir()
    (src / "a.txt").write_text("alpha\n")
    (src / "big.bin").write_bytes(bytes(range(256)) * 4096)      # 1 MiB, many frames
    cluster.kubectl("cp", str(src), f"{ns}/{chatty}:/tmp/up", version=version, timeout=60)
    assert cluster.kubectl("exec", chatty, "-n", ns, "--", "cat", "/tmp/up/a.txt", version=version).stdout == "alpha\n"
    back = tmp_path / "down"
    cluster.kubectl("cp", f"{ns}/{chatty}:/tmp/up", str(back), version=version, timeout=60)
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "big.bin").read_bytes() == bytes(range(256)) * 4096
