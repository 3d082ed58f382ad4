"""What the node agent asks for as its serving certificate and when it keeps one (nodeagent/serving_cert.py)."""
from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from apiserver.auth import pki
from controllers.certificates.issuing import KUBELET_SERVING, check_request
from nodeagent.serving_cert import USAGES, serving_request, subject_alt_names, usable


def test_the_request_is_for_the_node_and_its_addresses_and_kubelet_serving_accepts_it():
    req = x509.load_pem_x509_csr(serving_request("n1", ["10.1.2.3", "n1", "10.1.2.3"], ec.generate_private_key(
        ec.SECP256R1())))
    assert req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:nodes"]
    sans = req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(sans) == [x509.IPAddress(ipaddress.ip_address("10.1.2.3")), x509.DNSName("n1")]
    check_request(KUBELET_SERVING, req, USAGES)   # raises if the signer would refuse it


def test_a_certificate_is_kept_only_while_the_cluster_ca_issued_it_for_these_addresses():
    ca, other = pki.make_ca(), pki.make_ca("another-ca")
    ca_pem = pki.cert_pem(ca[0]).decode()
    good = pki.cert_pem(pki.make_serving_cert(*ca, ["10.1.2.3", "n1"])[0])
    assert usable(good, ["10.1.2.3", "n1"], ca_pem)
    assert not usable(good, ["10.1.2.4", "n1"], ca_pem)                   # the node's address changed
    assert not usable(good, ["10.1.2.3", "n1"], pki.cert_pem(other[0]).decode())
    assert not usable(b"not a certificate", ["n1"], ca_pem)
    assert subject_alt_names(["::1", "h"]) == [x509.IPAddress(ipaddress.ip_address("::1")), x509.DNSName("h")]
