"""kubectl logs / exec and the Python client's exec and port-forward, through the
API server's node proxy to the node agent's kubelet API."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time

import pytest

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
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(cluster.base / "kubectl-home")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(binary), [str(binary), f"--kubeconfig={cluster.server.kubeconfig}", "exec", "-it",
                                chatty, "-n", ns, "--", "sh"], env)
    # the terminal size travels on the resize channel to the container's tty
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    out = b""

    def drain_until(marker: bytes, timeout: float = 15) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return
    drain_until(b"# ")
    os.write(fd, b"tty; stty size; echo $((6*7))\r")
    drain_until(b"42")
    os.write(fd, b"exit 5\r")
    drain_until(b"exit code 5")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
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
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: att}}
spec:
  restartPolicy: Never
  containers:
  - {{name: c, image: {IMAGE}, stdin: true, stdinOnce: true, command: ["sh", "-c", "read line; echo got $line"]}}
"""
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
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: shell}}
spec:
  restartPolicy: Never
  containers:
  - {{name: c, image: {IMAGE}, stdin: true, tty: true, command: ["sh"]}}
"""
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    cluster.wait_for("shell Running", lambda: cluster.get("pod", "shell", "-n", ns)["status"].get("phase")
                     == "Running")
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(cluster.base / "kubectl-home")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(binary), [str(binary), f"--kubeconfig={cluster.server.kubeconfig}", "attach", "-it",
                                "shell", "-c", "c", "-n", ns], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 29, 97, 0, 0))
    out, reaped = b"", False

    def drain_until(marker: bytes, timeout: float = 20) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return
    try:
        drain_until(b"pressing enter")   # kubectl's hint: the shell printed its prompt before we came
        os.write(fd, b"\r")
        drain_until(b"# ")             # a fresh prompt: attached
        os.write(fd, b"tty; stty size; echo $((6*7))\r")
        drain_until(b"42\r\n")
        os.write(fd, b"exit 3\r")
        deadline = time.monotonic() + 30
        while not reaped and time.monotonic() < deadline:
            drain_until(b"never printed", timeout=0.2)   # keep reading so kubectl never blocks on output
            reaped = os.waitpid(pid, os.WNOHANG)[0] == pid
        assert reaped, f"kubectl attach still running after the shell exited: {out[-500:]!r}"
    finally:
        if not reaped:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
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
