"""Verifying a client certificate the TLS layer collected without judging it (pure).

Servers here accept any client certificate in the handshake (see the package) and verify
it per request, so that a certificate of an unknown CA is a 401, as with Go's
tls.RequestClientCert, not a failed handshake. Verified: issued by one of the CAs
(issuer name and signature), directly or through intermediates the client sent (each a
CA certificate, valid now, issued by the next, at most MAX_INTERMEDIATES of them), inside
its validity window, and good for client authentication (no extended key usage, or
clientAuth or anyExtendedKeyUsage). Not checked, unlike Go: path length and name
constraints, and the intermediates' own extended key usages.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID


MAX_INTERMEDIATES = 4


def issued_by_one_of(cert: x509.Certificate, cas: Iterable[x509.Certificate]) -> bool:
    return _issuer_among(cert, cas) is not None


def _issuer_among(cert: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for ca in candidates:
        if cert.issuer != ca.subject:
            continue
        try:
            cert.verify_directly_issued_by(ca)
            return ca
        except (ValueError, TypeError, InvalidSignature):
            continue
    return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def chains_to_one_of(cert: x509.Certificate, intermediates: list[x509.Certificate], cas: list[x509.Certificate],
                     now: dt.datetime) -> bool:
    """`cert` is issued by one of `cas`, directly or through some of `intermediates`."""
    current, usable = cert, [c for c in intermediates if _is_ca(c) and _valid_at(c, now)]
    for _ in range(MAX_INTERMEDIATES + 1):
        if issued_by_one_of(current, cas):
            return True
        issuer = _issuer_among(current, usable)
        if issuer is None:
            return False
        usable = [c for c in usable if c is not issuer]   # no loops
        current = issuer
    return False


def good_for_client_auth(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages


def client_certificate_refusal(cert: x509.Certificate, cas: Iterable[x509.Certificate], now: dt.datetime,
                               intermediates: Iterable[x509.Certificate] = ()) -> str | None:
    """Why `cert` logs nobody in (Go's wording), or None when it is good."""
    if not chains_to_one_of(cert, list(intermediates), list(cas), now):
        return "certificate signed by unknown authority"
    if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
        return "certificate has expired or is not yet valid"
    if not good_for_client_auth(cert):
        return "certificate specifies an incompatible key usage"
    return None
