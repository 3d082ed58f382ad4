"""PKI: certificates verify against the CA, name every SAN, and are reused on restart."""
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from apiserver.auth import pki


def _verify(ca: x509.Certificate, cert: x509.Certificate) -> None:
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))


def test_serving_sans_cover_service_names_and_extra_addresses():
    sans = pki.serving_sans(first_service_ip="10.96.0.1", extra_addresses=["192.0.2.7", "0.0.0.0"], hostname="box")
    for want in ["localhost", "127.0.0.1", "::1", "box", "10.96.0.1", "kubernetes", "kubernetes.default",
                 "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "192.0.2.7"]:
        assert want in sans
    assert "0.0.0.0" not in sans
    assert len(sans) == len(set(sans))


def test_ensure_pki_creates_then_reuses(tmp_path):
    sans = pki.serving_sans(first_service_ip="10.96.0.1", hostname="box")
    files = pki.ensure_pki(tmp_path, sans)
    ca, cert = pki.load_cert(files.ca_cert), pki.load_cert(files.cert)
    _verify(ca, cert)
    assert {"10.96.0.1", "::1", "kubernetes.default.svc"} <= pki.cert_sans(cert)
    assert oct(files.ca_key.stat().st_mode & 0o777) == "0o600"
    before = {p: p.read_bytes() for p in (files.ca_cert, files.ca_key, files.cert, files.key, files.sa_key, files.sa_pub)}
    pki.ensure_pki(tmp_path, sans)
    assert {p: p.read_bytes() for p in before} == before


def test_new_address_reissues_serving_cert_but_keeps_ca(tmp_path):
    files = pki.ensure_pki(tmp_path, pki.serving_sans(first_service_ip="10.96.0.1", hostname="box"))
    ca_before, cert_before = files.ca_cert.read_bytes(), files.cert.read_bytes()
    pki.ensure_pki(tmp_path, pki.serving_sans(first_service_ip="10.96.0.1", extra_addresses=["192.0.2.9"], hostname="box"))
    assert files.ca_cert.read_bytes() == ca_before
    assert files.cert.read_bytes() != cert_before
    assert "192.0.2.9" in pki.cert_sans(pki.load_cert(files.cert))


def test_client_cert_carries_user_and_groups(tmp_path):
    files = pki.ensure_pki(tmp_path, ["localhost"])
    cert_pem, key_pem = pki.issue_client_cert(files, "system:node:n1", ["system:nodes"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    _verify(pki.load_cert(files.ca_cert), cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:nodes"]
