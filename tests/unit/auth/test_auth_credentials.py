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
