"""The kubelet API's request attributes and callers (nodeagent/server/auth.py)."""
from __future__ import annotations

import asyncio

from apiserver.auth import pki
from nodeagent.server.auth import KubeletAuth, bearer_token, certificate_caller, request_attributes


def test_paths_map_to_the_kubelets_subresources():
    assert request_attributes("GET", "/stats/summary") == ("get", "stats")
    assert request_attributes("GET", "/stats") == ("get", "stats")
    assert request_attributes("GET", "/metrics/resource") == ("get", "metrics")
    assert request_attributes("GET", "/logs/messages") == ("get", "log")
    assert request_attributes("POST", "/exec/ns/pod/c") == ("create", "proxy")
    assert request_attributes("GET", "/containerLogs/ns/pod/c") == ("get", "proxy")
    assert request_attributes("GET", "/statsx") == ("get", "proxy")
    assert request_attributes("DELETE", "/pods") == ("delete", "proxy")


def test_certificate_and_token_callers():
    ca = pki.make_ca()
    cert, _ = pki.make_client_cert(*ca, "kube-apiserver-kubelet-client", ["system:masters"])
    caller = certificate_caller(pki.cert_pem(cert).decode())
    assert caller.name == "kube-apiserver-kubelet-client"
    assert caller.groups == ("system:masters", "system:authenticated")
    assert bearer_token([(b"authorization", b"Bearer abc")]) == "abc"
    assert bearer_token([(b"authorization", b"Basic abc")]) is None


def test_unverified_certificates_and_no_credentials_are_nobody():
    ca = pki.make_ca()
    cert, _ = pki.make_client_cert(*ca, "jane")
    pem = pki.cert_pem(cert).decode()
    auth = KubeletAuth(client=None, node_name="n1")
    scope = {"headers": [], "extensions": {"tls": {"client_cert_chain": [pem], "client_cert_error": "not verified"}}}
    assert asyncio.run(auth.authenticate(scope)) is None
    scope["extensions"]["tls"]["client_cert_error"] = None
    assert asyncio.run(auth.authenticate(scope)).name == "jane"
    assert asyncio.run(KubeletAuth(None, "n1", anonymous=True).authenticate({"headers": []})).name == \
        "system:anonymous"


def test_certificates_taken_unverified_are_checked_against_the_cluster_ca():
    ca, other = pki.make_ca(), pki.make_ca("another-ca")
    auth = KubeletAuth(client=None, node_name="n1", client_ca_pem=pki.cert_pem(ca[0]).decode())

    def caller(cert):
        tls = {"client_cert_chain": [pki.cert_pem(cert).decode()], "client_cert_error": "not verified"}
        return asyncio.run(auth.authenticate({"headers": [], "extensions": {"tls": tls}}))
    assert caller(pki.make_client_cert(*ca, "jane", ["devs"])[0]).groups == ("devs", "system:authenticated")
    assert caller(pki.make_client_cert(*other, "mallory")[0]) is None      # 401, not a failed handshake
    assert caller(pki.make_serving_cert(*ca, ["10.0.0.1"])[0]) is None     # server auth only
