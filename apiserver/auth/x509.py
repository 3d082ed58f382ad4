"""x509 client-certificate authentication (kube-apiserver's --client-ca-file).

A request's client certificate arrives as the ASGI TLS extension's chain (PEM,
the client's own first); the server hands it over unverified, so it is verified
here (tlspeer.verify: issued by a client CA, valid now, good for client auth).
As upstream's CommonNameUserConversion: the user is the subject's CN, the groups its O values (plus system:authenticated).

Verification is remembered per certificate (client-go sends many requests over one
connection, each with the same certificate) until the certificate expires.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.machinery.user import UserInfo
from tlspeer.verify import client_certificate_refusal

from .tokens import AUTHENTICATED_GROUP

CACHE_SIZE = 4096


class CertificateRefused(ValueError):
    """Why a presented certificate does not log anyone in (logged, never shown to the client)."""


def load_ca_bundle(pem: bytes) -> list[x509.Certificate]:
    cas = x509.load_pem_x509_certificates(pem)
    if not cas:
        raise ValueError("no certificate in the client CA bundle")
    return cas


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def user_of_certificate(cert: x509.Certificate) -> UserInfo:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    user = str(cns[0].value) if cns else ""
    if not user:
        raise CertificateRefused("common name of user is empty")
    groups = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if AUTHENTICATED_GROUP not in groups:
        groups.append(AUTHENTICATED_GROUP)
    return UserInfo(user, groups=tuple(groups))


def verify_client_certificate(cert: x509.Certificate, cas: Sequence[x509.Certificate],
                              now: dt.datetime | None = None) -> UserInfo:
    """The user a certificate logs in, or CertificateRefused naming why it does not."""
    refusal = client_certificate_refusal(cert, cas, now or _now())
    if refusal:
        raise CertificateRefused(refusal)
    return user_of_certificate(cert)


class ClientCertificateAuthenticator:
    """Users from client certificates issued by the client CA bundle."""

    def __init__(self, ca_pem: bytes):
        self.cas = load_ca_bundle(ca_pem)
        self._known: dict[str, tuple[UserInfo | None, dt.datetime]] = {}

    def authenticate_chain(self, chain: Sequence[str] | None) -> UserInfo | None:
        """The user of the chain's first certificate; None when there is none or it is refused."""
        if not chain:
            return None
        pem = chain[0]
        now = _now()
        known = self._known.get(pem)
        if known is not None and now <= known[1]:
            return known[0]
        try:
            cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        except ValueError:
            return None
        try:
            user: UserInfo | None = verify_client_certificate(cert, self.cas, now)
        except CertificateRefused:
            user = None
        if len(self._known) >= CACHE_SIZE:
            self._known.clear()
        # a refusal is remembered briefly: the certificate may become valid (not-before)
        until = cert.not_valid_after_utc if user is not None else now + dt.timedelta(seconds=10)
        self._known[pem] = (user, until)
        return user
