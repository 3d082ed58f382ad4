"""Client libraries' streaming calls against real pods, as their users write them."""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


@pytest.fixture
def core(cluster):
    kubernetes = pytest.importorskip("kubernetes")
    cfg = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(cluster.server.kubeconfig), client_configuration=cfg)
    api = kubernetes.client.ApiClient(cfg)
    yield kubernetes.client.CoreV1Api(api)
    api.close()


@pytest.fixture
def sleeper(cluster, ns):
    cluster.kubectl("run", "sleeper", "-n", ns, f"--image={IMAGE}", "--", "sleep", "3600")
    cluster.wait_for("sleeper Running", lambda: cluster.get("pod", "sleeper", "-n", ns)["status"].get("phase")
                     == "Running")
    return "sleeper"


def test_exec_stdin_as_text_and_as_binary_frames(core, ns, sleeper):
    """write_stdin(str) sends WebSocket text frames, write_stdin(bytes) binary ones:
    the kubelet takes both (channel byte first)."""
    from kubernetes.stream import stream

    resp = stream(core.connect_get_namespaced_pod_exec, sleeper, ns,
                  command=["sh", "-c", "read a; echo got-$a; read b; echo got-$b"],
                  stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    try:
        resp.write_stdin("text-line\n")
        resp.write_stdin(b"bytes-line\n")
        out = ""
        end = time.monotonic() + 30
        while "got-bytes-line" not in out and resp.is_open() and time.monotonic() < end:
            resp.update(timeout=1)
            out += resp.read_stdout() if resp.peek_stdout() else ""
    finally:
        resp.close()
    assert out == "got-text-line\ngot-bytes-line\n"


def test_a_deleted_pod_reports_not_ready_before_it_goes(core, ns, sleeper):
    """What a watcher (or `kubectl wait --for=condition=Ready=false`) sees, as from the kubelet."""
    from kubernetes import watch

    def ready(pod) -> bool:
        return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])

    end = time.monotonic() + 60
    while not ready(core.read_namespaced_pod(sleeper, ns)) and time.monotonic() < end:
        time.sleep(0.3)
    rv = core.read_namespaced_pod(sleeper, ns).metadata.resource_version
    core.delete_namespaced_pod(sleeper, ns, grace_period_seconds=2)
    before_delete = []
    for ev in watch.Watch().stream(core.list_namespaced_pod, ns, field_selector=f"metadata.name={sleeper}",
                                   resource_version=rv, timeout_seconds=60):
        if ev["type"] == "DELETED":
            break
        before_delete.append(ev["object"])
    else:
        pytest.fail("the pod was not deleted within the watch")
    last = before_delete[-1]
    assert not ready(last)
    assert [c.ready for c in last.status.container_statuses] == [False]


def test_port_forward_ends_when_the_pod_closes_the_connection(cluster, core, ns):
    """A server answering without Content-Length marks the end by closing: the client's
    forwarded socket must see that end (EOF), as through the kubelet."""
    from kubernetes.stream import portforward

    script = "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho hello-cgi\\n"
    cluster.kubectl("run", "cgi", "-n", ns, f"--image={IMAGE}", "--", "sh", "-c",
                    f"mkdir -p /www/cgi-bin && printf '{script}' > /www/cgi-bin/x && chmod +x /www/cgi-bin/x "
                    "&& exec httpd -f -p 8080 -h /www")
    cluster.wait_for("cgi Running", lambda: cluster.get("pod", "cgi", "-n", ns)["status"].get("phase") == "Running")
    pf = portforward(core.connect_get_namespaced_pod_portforward, "cgi", ns, ports="8080")
    try:
        sock = pf.socket(8080)
        sock.setblocking(True)
        sock.settimeout(30)     # a missing end fails the test instead of hanging it
        sock.sendall(b"GET /cgi-bin/x HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    finally:
        pf.close()
    assert data.startswith(b"HTTP/1.") and b"hello-cgi" in data and b"content-length" not in data.lower()
