"""What the kubernetes.io signers accept and issue, and whom the node client approver asks about."""
from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apiserver.auth import pki
from controllers.certificates.approver import ANY, SELF, node_client_permissions
from controllers.certificates.issuing import (KUBE_APISERVER_CLIENT, KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING,
                                              SignerRefused, check_request, issue)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
CLIENT = ["digital signature", "key encipherment", "client auth"]
SERVING = ["digital signature", "key encipherment", "server auth"]


def request(cn: str, orgs=(), dns=(), ips=(), emails=()) -> x509.CertificateSigningRequest:
    key = ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips] + \
        [x509.RFC822Name(e) for e in emails]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(key, hashes.SHA256())


def refusal(signer, req, usages) -> str:
    with pytest.raises(SignerRefused) as e:
        check_request(signer, req, usages)
    return str(e.value)


def test_client_signer_takes_any_subject_with_client_usages():
    check_request(KUBE_APISERVER_CLIENT, request("jane", ["devs"]), ["client auth"])
    check_request(KUBE_APISERVER_CLIENT, request("jane"), CLIENT)
    assert "usages did not match" in refusal(KUBE_APISERVER_CLIENT, request("jane"), ["server auth"])
    assert "usages did not match" in refusal(KUBE_APISERVER_CLIENT, request("jane"), ["digital signature"])


def test_kubelet_client_signer_wants_a_node_subject_and_no_names():
    node = request("system:node:n1", ["system:nodes"])
    check_request(KUBE_APISERVER_CLIENT_KUBELET, node, CLIENT)
    assert refusal(KUBE_APISERVER_CLIENT_KUBELET, request("system:node:n1"), CLIENT) == \
        "subject organization is not system:nodes"
    assert refusal(KUBE_APISERVER_CLIENT_KUBELET, request("n1", ["system:nodes"]), CLIENT) == \
        "subject common name does not begin with system:node:"
    assert "not allowed" in refusal(KUBE_APISERVER_CLIENT_KUBELET,
                                    request("system:node:n1", ["system:nodes"], dns=["n1"]), CLIENT)


def test_kubelet_serving_signer_wants_a_dns_or_ip_name():
    check_request(KUBELET_SERVING, request("system:node:n1", ["system:nodes"], ips=["10.0.0.5"]), SERVING)
    assert refusal(KUBELET_SERVING, request("system:node:n1", ["system:nodes"]), SERVING) == \
        "DNS or IP subjectAltName is required"
    assert refusal(KUBELET_SERVING, request("system:node:n1", ["system:nodes"], dns=["n1"], emails=["a@b.c"]),
                   SERVING) == "email subjectAltNames are not allowed"
    assert "usages did not match" in refusal(KUBELET_SERVING, request("system:node:n1", ["system:nodes"],
                                                                      dns=["n1"]), CLIENT)


def test_issue_honours_expiration_seconds_the_maximum_and_the_ca():
    ca_cert, ca_key = pki.make_ca()
    req = request("jane", ["devs"])
    cert = x509.load_pem_x509_certificate(issue(req, ["client auth"], ca_cert, ca_key, dt.timedelta(days=365),
                                                3600, NOW))
    assert cert.subject == req.subject and cert.issuer == ca_cert.subject
    assert cert.not_valid_before_utc == NOW - dt.timedelta(minutes=5)
    assert cert.not_valid_after_utc == NOW + dt.timedelta(hours=1)
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):   # no usage bits asked for: no keyUsage, as Go writes it
        cert.extensions.get_extension_for_class(x509.KeyUsage)
    cert.verify_directly_issued_by(ca_cert)
    capped = x509.load_pem_x509_certificate(issue(req, CLIENT, ca_cert, ca_key, dt.timedelta(days=1), 10**8, NOW))
    assert capped.not_valid_after_utc == NOW + dt.timedelta(days=1)
    assert capped.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    beyond_ca = x509.load_pem_x509_certificate(issue(req, CLIENT, ca_cert, ca_key, dt.timedelta(days=10**5), None,
                                                     NOW + dt.timedelta(days=3649)))
    assert beyond_ca.not_valid_after_utc == ca_cert.not_valid_after_utc


def test_serving_certificate_keeps_the_requested_names():
    ca_cert, ca_key = pki.make_ca()
    req = request("system:node:n1", ["system:nodes"], dns=["n1"], ips=["10.0.0.5"])
    cert = x509.load_pem_x509_certificate(issue(req, SERVING, ca_cert, ca_key, dt.timedelta(days=365), None, NOW))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["n1"]


def test_approver_asks_selfnodeclient_only_for_the_node_itself():
    assert node_client_permissions({"spec": {"username": "system:node:n1"}}, "system:node:n1") == [SELF, ANY]
    assert node_client_permissions({"spec": {"username": "system:bootstrap:abcdef"}}, "system:node:n1") == [ANY]
