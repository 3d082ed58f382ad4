"""The cluster's certificates and keys, made with `cryptography` alone.

Layout under DATA_DIR/pki (kept across restarts, so kubeconfigs stay valid):
  ca.crt, ca.key                the cluster CA: signs the serving and client certs
  apiserver.crt, apiserver.key  the serving certificate (SANs: every name a client may dial)
  sa.key, sa.pub                the service-account token signing key pair
  admin.crt, admin.key          admin.kubeconfig's client certificate (CN kubernetes-admin,
                                O system:masters), as kubeadm's admin.conf carries one

ECDSA P-256 everywhere: generating it is instant, which keeps first start and
tests fast, and every TLS stack kubectl and the Python client use accepts it.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
# Reissue a leaf this long before it expires, on the next start.
RENEW_BEFORE = dt.timedelta(days=30)

# Names the in-cluster clients use for the API server (the `kubernetes` Service).
SERVICE_DNS_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


@dataclass(frozen=True)
class ServingFiles:
    """Paths of what the server needs to serve TLS and sign tokens."""

    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path
    sa_key: Path
    sa_pub: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600: a half-written key must never be read back."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def make_ca(common_name: str = "pocketkube-ca") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, subject: x509.Name,
          usage: list, sans: list[x509.GeneralName] | None = None,
          validity: dt.timedelta = LEAF_VALIDITY) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = new_key()
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def serving_sans(*, first_service_ip: str, extra_addresses: list[str] = (), hostname: str | None = None) -> list[str]:
    """Every name and address a client may use to reach the API server, de-duplicated, in order."""
    names = ["localhost", "127.0.0.1", "::1", hostname if hostname is not None else socket.gethostname(),
             first_service_ip, *SERVICE_DNS_NAMES, *extra_addresses]
    out: list[str] = []
    for n in names:
        # 0.0.0.0 / :: are listen-everywhere addresses, not something a client dials.
        if n and n not in out and n not in ("0.0.0.0", "::"):
            out.append(n)
    return out


def _general_names(sans: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for s in sans:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(s)))
        except ValueError:
            out.append(x509.DNSName(s))
    return out


def cert_sans(cert: x509.Certificate) -> set[str]:
    """The SANs of a certificate as strings (IPs in their canonical form)."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in ext.get_values_for_type(x509.IPAddress)} | set(ext.get_values_for_type(x509.DNSName))


def _canonical(sans: list[str]) -> set[str]:
    out = set()
    for s in sans:
        try:
            out.add(str(ipaddress.ip_address(s)))
        except ValueError:
            out.add(s)
    return out


def make_serving_cert(ca_cert, ca_key, sans: list[str]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    return _leaf(ca_cert, ca_key, subject, [ExtendedKeyUsageOID.SERVER_AUTH], _general_names(sans))


def make_client_cert(ca_cert, ca_key, user: str, groups: list[str] = ()) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A client certificate as Kubernetes reads one: CN = user name, one O per group."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, user)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    return _leaf(ca_cert, ca_key, x509.Name(attrs), [ExtendedKeyUsageOID.CLIENT_AUTH])


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _needs_new_leaf(cert_path: Path, key_path: Path, ca_cert: x509.Certificate, sans: list[str]) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return True
    cert = load_cert(cert_path)
    if cert.issuer != ca_cert.subject:
        return True
    if cert.not_valid_after_utc - _now() < RENEW_BEFORE:
        return True
    # A new --advertise-address or bind address needs a cert that names it.
    return not _canonical(sans) <= cert_sans(cert)


def ensure_pki(pki_dir: Path, sans: list[str]) -> ServingFiles:
    """Create what is missing under pki_dir and reuse what is there.

    The CA and the service-account key are made once and never replaced (that
    would invalidate every kubeconfig and token); the serving cert is reissued
    when it no longer covers the wanted SANs or nears expiry.
    """
    pki_dir.mkdir(parents=True, exist_ok=True)
    files = ServingFiles(
        ca_cert=pki_dir / "ca.crt", ca_key=pki_dir / "ca.key",
        cert=pki_dir / "apiserver.crt", key=pki_dir / "apiserver.key",
        sa_key=pki_dir / "sa.key", sa_pub=pki_dir / "sa.pub",
    )
    if files.ca_cert.exists() and files.ca_key.exists():
        ca_cert, ca_key = load_cert(files.ca_cert), load_key(files.ca_key)
    else:
        ca_cert, ca_key = make_ca()
        _write_private(files.ca_key, key_pem(ca_key))
        _write_public(files.ca_cert, cert_pem(ca_cert))
    if _needs_new_leaf(files.cert, files.key, ca_cert, sans):
        cert, key = make_serving_cert(ca_cert, ca_key, sans)
        _write_private(files.key, key_pem(key))
        _write_public(files.cert, cert_pem(cert))
    if not (files.sa_key.exists() and files.sa_pub.exists()):
        sa = new_key()
        _write_private(files.sa_key, key_pem(sa))
        _write_public(files.sa_pub, sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return files


def _subject_is(cert: x509.Certificate, user: str, groups: list[str]) -> bool:
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return cns == [user] and orgs == list(groups)


def ensure_client_pair(files: ServingFiles, cert_path: Path, key_path: Path, user: str,
                       groups: list[str] = ()) -> tuple[bytes, bytes]:
    """PEM (cert, key) of a client certificate kept on disk: made once, reissued when it nears
    expiry, is no longer the CA's or names another subject (so kubeconfigs stay stable)."""
    ca_cert = load_cert(files.ca_cert)
    if not _needs_new_leaf(cert_path, key_path, ca_cert, []) and _subject_is(load_cert(cert_path), user, groups):
        return cert_path.read_bytes(), key_path.read_bytes()
    cert, key = make_client_cert(ca_cert, load_key(files.ca_key), user, groups)
    _write_private(key_path, key_pem(key))
    _write_public(cert_path, cert_pem(cert))
    return cert_pem(cert), key_pem(key)


def issue_client_cert(files: ServingFiles, user: str, groups: list[str] = ()) -> tuple[bytes, bytes]:
    """PEM (cert, key) for a client, signed by the cluster CA."""
    cert, key = make_client_cert(load_cert(files.ca_cert), load_key(files.ca_key), user, groups)
    return cert_pem(cert), key_pem(key)
