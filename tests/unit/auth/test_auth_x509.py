"""x509 client-certificate authentication: who a certificate logs in, and which it refuses."""
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apiserver.auth import pki
from apiserver.auth.x509 import CertificateRefused, ClientCertificateAuthenticator, verify_client_certificate


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca("test-ca")


def _pem(cert) -> str:
    return pki.cert_pem(cert).decode()


def test_cn_is_the_user_and_o_the_groups(ca):
    cert, _ = pki.make_client_cert(*ca, "jane", ["devs", "ops"])
    user = verify_client_certificate(cert, [ca[0]])
    assert user.name == "jane"
    assert user.groups == ("devs", "ops", "system:authenticated")


def test_another_ca_is_refused(ca):
    other = pki.make_ca("other-ca")
    cert, _ = pki.make_client_cert(*other, "mallory", ["system:masters"])
    with pytest.raises(CertificateRefused, match="unknown authority"):
        verify_client_certificate(cert, [ca[0]])


def test_same_subject_name_but_another_key_is_refused(ca):
    impostor = pki.make_ca("test-ca")    # same issuer name, different key
    cert, _ = pki.make_client_cert(*impostor, "mallory")
    with pytest.raises(CertificateRefused):
        verify_client_certificate(cert, [ca[0]])


def test_expired_and_not_yet_valid_are_refused(ca):
    cert, _ = pki.make_client_cert(*ca, "jane")
    with pytest.raises(CertificateRefused, match="expired"):
        verify_client_certificate(cert, [ca[0]], now=cert.not_valid_after_utc + dt.timedelta(seconds=1))
    with pytest.raises(CertificateRefused, match="expired"):
        verify_client_certificate(cert, [ca[0]], now=cert.not_valid_before_utc - dt.timedelta(seconds=1))


def test_a_serving_certificate_is_no_client_certificate(ca):
    cert, _ = pki.make_serving_cert(*ca, ["localhost"])
    with pytest.raises(CertificateRefused, match="key usage"):
        verify_client_certificate(cert, [ca[0]])


def test_empty_common_name_is_refused(ca):
    ca_cert, ca_key = ca
    key = pki.new_key()
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "devs")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with pytest.raises(CertificateRefused, match="common name"):
        verify_client_certificate(cert, [ca_cert])


def test_authenticator_reads_the_first_of_the_chain_and_remembers(ca):
    auth = ClientCertificateAuthenticator(pki.cert_pem(pki.make_ca("unrelated")[0]) + pki.cert_pem(ca[0]))
    cert, _ = pki.make_client_cert(*ca, "jane", ["devs"])
    assert auth.authenticate_chain([_pem(cert)]).name == "jane"
    assert auth.authenticate_chain([_pem(cert)]).name == "jane"   # from what it remembered
    assert auth.authenticate_chain([]) is None
    assert auth.authenticate_chain(None) is None
    assert auth.authenticate_chain(["not a certificate"]) is None
    foreign, _ = pki.make_client_cert(*pki.make_ca("other"), "mallory")
    assert auth.authenticate_chain([_pem(foreign)]) is None


def make_intermediate(ca_cert, ca_key, name: str = "intermediate", ca: bool = True):
    """A CA certificate (or, ca=False, a plain one) issued by `ca_cert`: (certificate, key)."""
    key = pki.new_key()
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def test_a_chain_through_intermediates_the_client_sent_is_accepted(ca):
    inter = make_intermediate(*ca)
    inner = make_intermediate(*inter, "inner")
    cert, _ = pki.make_client_cert(*inner, "jane", ["devs"])
    assert verify_client_certificate(cert, [ca[0]], intermediates=[inter[0], inner[0]]).name == "jane"
    assert verify_client_certificate(cert, [ca[0]], intermediates=[inner[0], inter[0]]).name == "jane"
    with pytest.raises(CertificateRefused, match="unknown authority"):
        verify_client_certificate(cert, [ca[0]])                              # only the root is trusted
    with pytest.raises(CertificateRefused, match="unknown authority"):
        verify_client_certificate(cert, [ca[0]], intermediates=[inner[0]])    # a link missing
    auth = ClientCertificateAuthenticator(pki.cert_pem(ca[0]))
    assert auth.authenticate_chain([_pem(cert), _pem(inner[0]), _pem(inter[0])]).name == "jane"
    assert auth.authenticate_chain([_pem(cert)]) is None


def test_an_intermediate_that_is_no_ca_does_not_issue(ca):
    plain = make_intermediate(*ca, "not-a-ca", ca=False)
    cert, _ = pki.make_client_cert(*plain, "mallory", ["system:masters"])
    with pytest.raises(CertificateRefused, match="unknown authority"):
        verify_client_certificate(cert, [ca[0]], intermediates=[plain[0]])
