"""The node agent's kubelet API authenticates and authorizes as the kubelet does, on a
cluster with --authorization-mode=RBAC: no credentials is a 401; a client certificate of
the cluster CA or a service-account token names the caller, and a SubjectAccessReview on
nodes/<subresource> decides (403 otherwise); kubectl logs and exec (WebSocket and SPDY)
through the API server, which shows its own client certificate, keep working."""
from __future__ import annotations

import json
import ssl

import httpx
import pytest

from apiserver.auth import pki
from tests.e2e.conftest import fresh_namespace, running_cluster

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


@pytest.fixture(scope="module")
def rbac_cluster(tmp_path_factory):
    with running_cluster(tmp_path_factory.mktemp("kubelet-auth"), server_args=["--authorization-mode=RBAC"]) as c:
        yield c


@pytest.fixture(scope="module")
def kubelet_url(rbac_cluster) -> str:
    node = rbac_cluster.get("node", rbac_cluster.node)
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    return f"https://127.0.0.1:{port}"


def _client(url: str, cert: tuple | None = None, token: str | None = None) -> httpx.Client:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE   # the agent's serving cert is self-signed
    if cert:
        ctx.load_cert_chain(*cert)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, verify=ctx, headers=headers, timeout=30)


def _user_cert(c, tmp_path, user: str) -> tuple:
    files = pki.ServingFiles(c.server.ca_file, c.server.data_dir / "pki" / "ca.key", None, None, None, None)
    cert_pem, key_pem = pki.issue_client_cert(files, user, ["testers"])
    cert, key = tmp_path / f"{user}.crt", tmp_path / f"{user}.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return str(cert), str(key)


def test_no_credentials_is_401(kubelet_url):
    with _client(kubelet_url) as h:
        r = h.get("/pods")
        assert r.status_code == 401 and r.text == "Unauthorized"


def test_a_client_certificate_is_authorized_by_subject_access_review(rbac_cluster, kubelet_url, tmp_path):
    k = rbac_cluster.kubectl
    with _client(kubelet_url, _user_cert(rbac_cluster, tmp_path, "jane")) as h:
        r = h.get("/pods")
        assert r.status_code == 403
        assert r.text == "Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)"
        assert h.get("/stats/summary").text == "Forbidden (user=jane, verb=get, resource=nodes, subresource=stats)"
    k("create", "clusterrole", "node-proxy-reader", "--verb=get", "--resource=nodes/proxy")
    k("create", "clusterrolebinding", "kim-node-proxy", "--clusterrole=node-proxy-reader", "--user=kim")
    with _client(kubelet_url, _user_cert(rbac_cluster, tmp_path, "kim")) as h:
        r = h.get("/pods")
        assert r.status_code == 200 and r.json()["kind"] == "PodList"
        assert h.get("/stats/summary").status_code == 403


def test_a_bearer_token_is_reviewed_then_authorized(rbac_cluster, kubelet_url):
    k = rbac_cluster.kubectl
    k("create", "namespace", "kubelet-readers")
    k("create", "serviceaccount", "stats", "-n", "kubelet-readers")
    k("create", "clusterrole", "node-stats-reader", "--verb=get", "--resource=nodes/stats")
    k("create", "clusterrolebinding", "stats-reader", "--clusterrole=node-stats-reader",
      "--serviceaccount=kubelet-readers:stats")
    token = k("create", "token", "stats", "-n", "kubelet-readers").stdout.strip()
    with _client(kubelet_url, token=token) as h:
        summary = h.get("/stats/summary")
        assert summary.status_code == 200 and summary.json()["node"]["nodeName"] == rbac_cluster.node
        assert h.get("/pods").text == ("Forbidden (user=system:serviceaccount:kubelet-readers:stats, verb=get, "
                                       "resource=nodes, subresource=proxy)")
    with _client(kubelet_url, token="not-a-token") as h:
        assert h.get("/pods").status_code == 401


@pytest.mark.parametrize("version", ["1.27", "1.33"])   # SPDY, then WebSocket, to the node agent
def test_logs_and_exec_through_the_api_server(rbac_cluster, version):
    c = rbac_cluster
    with fresh_namespace(c) as ns:
        pod = c.run_shell_pod(ns, "talker", "echo hello-logs; exec sleep 3600")
        logs = c.wait_for("the pod's log", lambda: c.kubectl("logs", pod, "-n", ns, version=version).stdout or None)
        assert logs == "hello-logs\n"
        cp = c.kubectl("exec", pod, "-n", ns, "--", "sh", "-c", "echo in-pod; exit 3", version=version, check=False)
        assert (cp.returncode, cp.stdout) == (3, "in-pod\n")
        assert json.loads(c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/pods").stdout)["kind"] == "PodList"
