"""The data dir set-up: admin kubeconfig written once, its token kept across restarts."""
import yaml

from apiserver.auth.credentials import ensure_credentials


def test_admin_kubeconfig_reused_across_restarts(tmp_path):
    c1 = ensure_credentials(tmp_path, port=6443)
    k1 = yaml.safe_load(c1.admin_kubeconfig.read_text())
    assert k1["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert k1["current-context"] == k1["contexts"][0]["name"]
    c2 = ensure_credentials(tmp_path, port=7443)
    k2 = yaml.safe_load(c2.admin_kubeconfig.read_text())
    assert k2["users"] == k1["users"]
    assert k2["clusters"][0]["cluster"]["certificate-authority-data"] == k1["clusters"][0]["cluster"]["certificate-authority-data"]
    assert k2["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:7443"


def test_component_kubeconfig(tmp_path):
    c = ensure_credentials(tmp_path, port=6443)
    path = c.kubeconfig_for("system:node:n1", ["system:nodes"], client_cert=True)
    k = yaml.safe_load(path.read_text())
    assert k["users"][0]["name"] == "system:node:n1"
    assert k["users"][0]["user"]["token"] and k["users"][0]["user"]["client-certificate-data"]


def test_server_url_and_client_host():
    from apiserver.auth.credentials import client_host
    from apiserver.auth.kubeconfig import server_url
    assert server_url("127.0.0.1", 6443) == "https://127.0.0.1:6443"
    assert server_url("::1", 6443) == "https://[::1]:6443"
    assert client_host("0.0.0.0") == "127.0.0.1" and client_host("::") == "::1"
    assert client_host("192.0.2.4") == "192.0.2.4"


def test_listen_everywhere_still_writes_a_dialable_kubeconfig(tmp_path):
    c = ensure_credentials(tmp_path, port=6443, bind_address="0.0.0.0", advertise_address="192.0.2.5")
    k = yaml.safe_load(c.admin_kubeconfig.read_text())
    assert k["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"


def test_admin_kubeconfig_is_kubeadms_client_certificate(tmp_path):
    import base64

    from cryptography import x509

    from apiserver.auth.x509 import verify_client_certificate

    c = ensure_credentials(tmp_path, port=6443)
    k = yaml.safe_load(c.admin_kubeconfig.read_text())
    assert [x["name"] for x in k["clusters"]] == ["kubernetes"]
    assert k["current-context"] == "kubernetes-admin@kubernetes"
    assert k["contexts"][0]["context"] == {"cluster": "kubernetes", "user": "kubernetes-admin"}
    user = k["users"][0]["user"]
    assert "token" not in user and user["client-key-data"]
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    who = verify_client_certificate(cert, [x509.load_pem_x509_certificate(c.pki.ca_cert.read_bytes())])
    assert who.name == "kubernetes-admin" and who.groups == ("system:masters", "system:authenticated")
    assert c.tokens.admin_token()   # the admin keeps a bearer token too, in tokens.csv
