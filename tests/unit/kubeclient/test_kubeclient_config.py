import base64

import pytest

from kubeclient.kubeconfig import KubeconfigError, parse_kubeconfig
from kubeclient.resources import PODS, NODES, LEASES, object_key, split_key


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


DOC = {
    "current-context": "a",
    "contexts": [{"name": "a", "context": {"cluster": "c", "user": "u", "namespace": "ns1"}},
                 {"name": "b", "context": {"cluster": "c", "user": "u2"}}],
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA")}}],
    "users": [{"name": "u", "user": {"token": "tok"}},
              {"name": "u2", "user": {"client-certificate": "cert.pem", "client-key-data": b64("KEY")}}],
}


def test_current_context_token_and_ca_data():
    cfg = parse_kubeconfig(DOC)
    assert cfg.server == "https://127.0.0.1:6443"
    assert cfg.ca_pem == "CA" and cfg.token == "tok" and cfg.namespace == "ns1"


def test_named_context_reads_files_relative_to_kubeconfig():
    read = {"/cfg/cert.pem": "CERT"}.__getitem__
    cfg = parse_kubeconfig(DOC, "b", base_dir="/cfg", read_file=read)
    assert cfg.client_cert_pem == "CERT" and cfg.client_key_pem == "KEY" and cfg.token is None
    assert cfg.namespace == "default"


def test_missing_pieces_are_errors():
    with pytest.raises(KubeconfigError):
        parse_kubeconfig({**DOC, "current-context": "zzz"})
    with pytest.raises(KubeconfigError):
        parse_kubeconfig({})


def test_resource_paths():
    assert PODS.path("ns", "p", "status") == "/api/v1/namespaces/ns/pods/p/status"
    assert PODS.path() == "/api/v1/pods"
    assert NODES.path("ignored", "n1") == "/api/v1/nodes/n1"
    assert LEASES.path("kube-system") == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"


def test_keys():
    assert object_key({"metadata": {"namespace": "a", "name": "b"}}) == "a/b"
    assert object_key({"metadata": {"name": "n"}}) == "n"
    assert split_key("a/b") == ("a", "b") and split_key("n") == (None, "n")
