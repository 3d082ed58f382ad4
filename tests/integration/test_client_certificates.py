"""x509 client certificates through the real server: kubectl (1.27, 1.33; HTTP/2 and HTTP/1.1),
the official Python client and httpx log in with a CA-signed certificate (CN: user, O: groups);
a certificate from another CA is a 401 Status, and a bearer token still works beside one."""
from __future__ import annotations

import json
import ssl

import httpx
import pytest

from apiserver.auth import pki
from apiserver.auth.kubeconfig import render_kubeconfig, write_kubeconfig
from tests.harness import kubectl_runner

SSR = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
SSR_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def _files(tmp_path, name: str, cert_pem: bytes, key_pem: bytes):
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    return cert, key


@pytest.fixture(scope="module")
def jane(server, tmp_path_factory):
    """A certificate of the cluster CA for jane (groups devs, ops): (kubeconfig, cert, key)."""
    d = tmp_path_factory.mktemp("jane")
    files = pki.ServingFiles(server.ca_file, server.data_dir / "pki" / "ca.key", None, None, None, None)
    cert_pem, key_pem = pki.issue_client_cert(files, "jane", ["devs", "ops"])
    with server.http_client() as admin:   # Node,RBAC by default: the devs group may view the cluster
        r = admin.post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json={
            "metadata": {"name": "devs-view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}]})
        assert r.status_code in (201, 409), r.text
    kubeconfig = write_kubeconfig(d / "kubeconfig", render_kubeconfig(
        server=server.url, ca_pem=server.ca_file.read_bytes(), user="jane",
        client_cert_pem=cert_pem, client_key_pem=key_pem))
    return (kubeconfig, *_files(d, "jane", cert_pem, key_pem))


@pytest.fixture(scope="module")
def mallory(server, tmp_path_factory):
    """A certificate of another CA claiming system:masters."""
    d = tmp_path_factory.mktemp("mallory")
    other_ca = pki.make_ca("another-ca")
    cert, key = pki.make_client_cert(*other_ca, "mallory", ["system:masters"])
    kubeconfig = write_kubeconfig(d / "kubeconfig", render_kubeconfig(
        server=server.url, ca_pem=server.ca_file.read_bytes(), user="mallory",
        client_cert_pem=pki.cert_pem(cert), client_key_pem=pki.key_pem(key)))
    return (kubeconfig, *_files(d, "mallory", pki.cert_pem(cert), pki.key_pem(key)))


def _whoami(cp) -> dict:
    return json.loads(cp.stdout)["status"]["userInfo"]


@pytest.mark.parametrize("version", ["1.27", "1.33"])
@pytest.mark.parametrize("http", ["h2", "http1.1"])
def test_kubectl_logs_in_with_a_client_certificate(jane, kubectl_cache_dir, monkeypatch, version, http):
    if http == "http1.1":
        monkeypatch.setenv("GODEBUG", "http2client=0")   # Go's switch for HTTP/1.1 only
    kubectl = kubectl_runner(jane[0], kubectl_cache_dir)
    # --validate=false: kubectl validates a kind without PATCH (a review) by listing CRDs, which
    # only cluster admins may (upstream answers a viewer the same way)
    user = _whoami(kubectl("create", "--validate=false", "-f", "-", "-o", "json", input=SSR, version=version))
    assert user["username"] == "jane"
    assert user["groups"] == ["devs", "ops", "system:authenticated"]
    kubectl("get", "namespaces", version=version)


def test_kubectl_auth_whoami_shows_user_and_groups(jane, kubectl_cache_dir):
    out = kubectl_runner(jane[0], kubectl_cache_dir)("auth", "whoami").stdout
    assert "jane" in out and "[devs ops system:authenticated]" in out


def test_a_certificate_of_another_ca_is_401(mallory, kubectl_cache_dir, server):
    cp = kubectl_runner(mallory[0], kubectl_cache_dir)("get", "namespaces", check=False)
    assert cp.returncode == 1 and "You must be logged in to the server" in cp.stderr
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.load_cert_chain(mallory[1], mallory[2])
    with httpx.Client(base_url=server.url, verify=ctx, http2=True) as c:
        r = c.get("/api/v1/namespaces")
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized"
        # kube-apiserver's union of authenticators: a good token still logs in beside it
        r = c.post(SSR_PATH, content=SSR, headers={"Authorization": f"Bearer {server.token}",
                                                   "Content-Type": "application/json"})
        assert r.status_code == 201 and r.json()["status"]["userInfo"]["username"] == "kubernetes-admin"


@pytest.mark.parametrize("http2", [True, False], ids=["h2", "http1.1"])
def test_httpx_with_a_client_certificate(jane, server, http2):
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    ctx.load_cert_chain(jane[1], jane[2])
    with httpx.Client(base_url=server.url, verify=ctx, http2=http2, http1=not http2) as c:
        for _ in range(3):   # several requests on one connection, each authenticated
            r = c.post(SSR_PATH, content=SSR, headers={"Content-Type": "application/json"})
            assert r.status_code == 201, r.text
            assert r.json()["status"]["userInfo"]["username"] == "jane"
        assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1")


def test_python_client_with_a_client_certificate(jane):
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(jane[0]))
    try:
        review = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
        assert review.status.user_info.username == "jane"
        assert review.status.user_info.groups == ["devs", "ops", "system:authenticated"]
    finally:
        api.close()


def test_a_client_certificate_issued_by_an_intermediate_logs_in_with_the_chain(server, kubectl_cache_dir, tmp_path):
    """The client sends its certificate and the intermediate; only the root is the client CA."""
    from tests.unit.auth.test_auth_x509 import make_intermediate

    root = (pki.load_cert(server.ca_file), pki.load_key(server.data_dir / "pki" / "ca.key"))
    inter_cert, inter_key = make_intermediate(*root, "team-intermediate-ca")
    cert, key = pki.make_client_cert(inter_cert, inter_key, "kai", ["devs"])
    chain_pem = pki.cert_pem(cert) + pki.cert_pem(inter_cert)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", render_kubeconfig(
        server=server.url, ca_pem=server.ca_file.read_bytes(), user="kai",
        client_cert_pem=chain_pem, client_key_pem=pki.key_pem(key)))
    out = kubectl_runner(kubeconfig, kubectl_cache_dir)("auth", "whoami").stdout
    assert "kai" in out and "[devs system:authenticated]" in out
    for name, pem in (("chain", chain_pem), ("leaf", pki.cert_pem(cert))):
        crt, k = _files(tmp_path, name, pem, pki.key_pem(key))
        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        ctx.load_cert_chain(crt, k)
        with httpx.Client(base_url=server.url, verify=ctx) as c:
            r = c.post(SSR_PATH, content=SSR, headers={"Content-Type": "application/json"})
            if name == "chain":
                assert r.status_code == 201 and r.json()["status"]["userInfo"]["username"] == "kai"
            else:   # the leaf alone does not chain to the client CA
                assert r.status_code == 401


def test_client_ca_file_names_the_cas_whose_certificates_log_in(server_factory, kubectl_cache_dir, tmp_path):
    """--client-ca-file: a bundle holding only a team's CA decides. Its certificates log in; the
    cluster CA's (the admin kubeconfig's) are then a 401, as upstream's; tokens still log in."""
    team_ca = pki.make_ca("team-ca")
    (tmp_path / "team-ca.crt").write_bytes(pki.cert_pem(team_ca[0]))
    srv = server_factory(extra_args=["--client-ca-file", str(tmp_path / "team-ca.crt")])
    cert, key = pki.make_client_cert(*team_ca, "tess", ["testers"])
    kubeconfig = write_kubeconfig(tmp_path / "tess.kubeconfig", render_kubeconfig(
        server=srv.url, ca_pem=srv.ca_file.read_bytes(), user="tess",
        client_cert_pem=pki.cert_pem(cert), client_key_pem=pki.key_pem(key)))
    out = kubectl_runner(kubeconfig, kubectl_cache_dir)("auth", "whoami").stdout
    assert "tess" in out and "[testers system:authenticated]" in out
    cp = kubectl_runner(srv.kubeconfig, kubectl_cache_dir)("get", "namespaces", check=False)
    assert cp.returncode == 1 and "You must be logged in to the server" in cp.stderr
    with srv.http_client() as admin:   # the admin's bearer token
        r = admin.post(SSR_PATH, content=SSR, headers={"Content-Type": "application/json"})
        assert r.status_code == 201 and r.json()["status"]["userInfo"]["username"] == "kubernetes-admin"
