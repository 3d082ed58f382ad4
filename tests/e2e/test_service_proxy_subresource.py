"""services/proxy and pods/proxy through `kubectl proxy` (issue 12's follow-up): the
API server relays to a ready endpoint's pod IP, which is on this machine's bridge."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import httpx
import pytest

from tests.e2e.test_services_proxy_dns import pod_names, web

pytestmark = pytest.mark.podman


@pytest.fixture
def kubectl_proxy(net_cluster):
    """`kubectl proxy` on a free loopback port; its base URL."""
    env = {**os.environ, "KUBECONFIG": str(net_cluster.server.kubeconfig)}
    proc = subprocess.Popen([shutil.which("kubectl"), "proxy", "--port=0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert m, line
        yield f"http://127.0.0.1:{m.group(1)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_kubectl_proxy_reaches_service_and_pod(net_cluster, net_ns, kubectl_proxy):
    c, ns = net_cluster, net_ns
    web(c, ns)
    pods = pod_names(c, ns, "web")
    base = f"{kubectl_proxy}/api/v1/namespaces/{ns}"
    for ref in ("web:80", "web:http", "http:web:http"):
        answers = {httpx.get(f"{base}/services/{ref}/proxy/", timeout=10).text.strip() for _ in range(20)}
        assert answers == pods, ref
    pod = sorted(pods)[0]
    r = httpx.get(f"{base}/pods/{pod}/proxy/index.html", timeout=10)   # the first container port: 8080
    assert (r.status_code, r.text.strip()) == (200, pod)
    # kubectl get --raw goes the same way
    assert c.kubectl("get", "--raw", f"/api/v1/namespaces/{ns}/services/web:80/proxy/").stdout.strip() in pods


def test_service_proxy_errors_are_statuses(net_cluster, net_ns, kubectl_proxy):
    c, ns = net_cluster, net_ns
    base = f"{kubectl_proxy}/api/v1/namespaces/{ns}"
    r = httpx.get(f"{base}/services/nothere/proxy/", timeout=10)
    assert r.status_code == 404 and r.json()["kind"] == "Status"
    c.kubectl("create", "service", "clusterip", "empty", "--tcp=80:8080", "-n", ns)
    r = httpx.get(f"{base}/services/empty:80/proxy/", timeout=10)
    assert r.status_code == 503 and "no endpoints available" in r.json()["message"]
    r = httpx.get(f"{base}/services/empty:81/proxy/", timeout=10)
    assert r.status_code == 503 and "no service port 81" in r.json()["message"]
    r = httpx.get(f"{base}/services/ftp:empty:80/proxy/", timeout=10)
    assert r.status_code == 400
