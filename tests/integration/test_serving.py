"""Serving: HTTPS with HTTP/1.1 and HTTP/2, authentication, the certificate, kubectl reaching it."""
from __future__ import annotations

import socket
import ssl

import httpx
import pytest
from cryptography import x509

from apiserver.auth.pki import cert_sans


def _client(server, http2: bool, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)),
                        http2=http2, http1=not http2,
                        headers=headers, timeout=30)


@pytest.mark.parametrize("http2", [False, True], ids=["http1.1", "h2"])
def test_https_serves_both_protocols(server, http2):
    with _client(server, http2, server.token) as c:
        r = c.get("/api/v1/namespaces")
        assert r.status_code == 200, r.text
        assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        names = {item["metadata"]["name"] for item in r.json()["items"]}
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


def test_many_requests_on_one_h2_connection(server):
    # client-go sends everything on one HTTP/2 connection: the server must not
    # GOAWAY it after 1000 requests (hypercorn's default).
    with _client(server, True, server.token) as c:
        for _ in range(1100):
            assert c.get("/version").status_code == 200


@pytest.mark.parametrize("token", [None, "not-a-valid-token"], ids=["no-token", "bad-token"])
def test_unauthenticated_gets_401_status(server, token):
    with _client(server, False, token) as c:
        r = c.get("/api/v1/namespaces")
    assert r.status_code == 401
    body = r.json()
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/version"])
def test_health_and_version_need_no_credentials(server, path):
    with _client(server, False) as c:
        assert c.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/livez/ping", "/readyz", "/version", "/openapi/v2", "/openapi/v3",
                                  "/no-such-path", "/api/v1/namespaces/default/pods/p/log"])
def test_a_bad_token_is_401_on_every_path(server, path):
    """Anonymous may read /version and /healthz; an invalid bearer token may not (upstream's
    authentication filter refuses it before any handler)."""
    with _client(server, False, "not-a-valid-token") as c:
        r = c.get(path)
    assert r.status_code == 401, r.text
    assert (r.json()["reason"], r.json()["code"]) == ("Unauthorized", 401)
    with _client(server, False, server.token) as c:
        assert c.get("/version").status_code == 200


def test_serving_cert_names_every_address(server):
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    with socket.create_connection(("127.0.0.1", server.port)) as raw, \
            ctx.wrap_socket(raw, server_hostname="kubernetes.default.svc") as tls:
        der = tls.getpeercert(binary_form=True)
    sans = cert_sans(x509.load_der_x509_certificate(der))
    assert {"localhost", "127.0.0.1", "::1", socket.gethostname(), "10.96.0.1", "kubernetes",
            "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"} <= sans


def test_kubectl_version_and_cluster_info(kubectl, server):
    out = kubectl("version", "-o", "json").stdout
    assert '"serverVersion"' in out and '"minor": "33"' in out.replace('"minor":"33"', '"minor": "33"')
    info = kubectl("cluster-info").stdout
    assert server.url in info


def test_python_client_lists_namespaces(api_client):
    from kubernetes import client

    names = {ns.metadata.name for ns in client.CoreV1Api(api_client).list_namespace().items}
    assert "default" in names


def test_token_file_user_and_restart_keep_state(server_factory, tmp_path):
    """A --token-auth-file user authenticates; a restart on the same data dir keeps
    objects, the CA, and the admin credentials (the old kubeconfig still works)."""
    token_file = tmp_path / "tokens.csv"
    token_file.write_text('static-token-1,alice,1001,"developers,testers"\n')
    data_dir = tmp_path / "state"
    # AlwaysAllow, so that alice, bound to no role, may write
    first = server_factory(data_dir, ["--token-auth-file", str(token_file), "--authorization-mode=AlwaysAllow"])
    admin_token, ca = first.token, first.ca_file.read_bytes()
    with _client(first, True, "static-token-1") as c:
        r = c.post("/api/v1/namespaces/default/configmaps",
                   json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "survives"},
                         "data": {"k": "v"}})
        assert r.status_code == 201, r.text
    first.stop()
    assert first.proc.returncode == 0, f"SIGTERM should stop the server cleanly:\n{first.log()}"

    second = server_factory(data_dir, ["--token-auth-file", str(token_file), "--authorization-mode=AlwaysAllow"])
    assert second.token == admin_token and second.ca_file.read_bytes() == ca
    for token in (admin_token, "static-token-1"):
        with _client(second, False, token) as c:
            r = c.get("/api/v1/namespaces/default/configmaps/survives")
            assert r.status_code == 200, r.text
            assert r.json()["data"] == {"k": "v"}
