"""x509 client-certificate authentication (kube-apiserver's --client-ca-file).

A request's client certificate arrives as the ASGI TLS extension's chain (PEM,
the client's own first); the server hands it over unverified, so it is verified
here (tlspeer.verify: issued by a client CA, directly or through the intermediates the
client sent after it, valid now, good for client auth). As upstream's
CommonNameUserConversion: the user is the subject's CN, the groups its O values (plus
system:authenticated).

Verification is remembered per chain (client-go sends many requests over one
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
                              now: dt.datetime | None = None,
                              intermediates: Sequence[x509.Certificate] = ()) -> UserInfo:
    """The user a certificate logs in, or CertificateRefused naming why it does not."""
    refusal = client_certificate_refusal(cert, cas, now or _now(), intermediates)
    if refusal:
        raise CertificateRefused(refusal)
    return user_of_certificate(cert)


class ClientCertificateAuthenticator:
    """Users from client certificates issued by the client CA bundle."""

    def __init__(self, ca_pem: bytes):
        self.cas = load_ca_bundle(ca_pem)
        self._known: dict[tuple, tuple[UserInfo | None, dt.datetime]] = {}

    def authenticate_chain(self, chain: Sequence[str] | None) -> UserInfo | None:
        """The user of the chain's first certificate (the rest: intermediates it may chain
        through); None when there is none or it is refused."""
        if not chain:
            return None
        key = tuple(chain)
        now = _now()
        known = self._known.get(key)
        if known is not None and now <= known[1]:
            return known[0]
        try:
            cert, *intermediates = [x509.load_pem_x509_certificate(p.encode() if isinstance(p, str) else p)
                                    for p in chain]
        except ValueError:
            return None
        try:
            user: UserInfo | None = verify_client_certificate(cert, self.cas, now, intermediates)
        except CertificateRefused:
            user = None
        if len(self._known) >= CACHE_SIZE:
            self._known.clear()
        # a refusal is remembered briefly: the certificate may become valid (not-before)
        until = cert.not_valid_after_utc if user is not None else now + dt.timedelta(seconds=10)
        self._known[key] = (user, until)
        return user
