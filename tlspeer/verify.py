"""Verifying a client certificate the TLS layer collected without judging it (pure).

Servers here accept any client certificate in the handshake (see the package) and verify
it per request, so that a certificate of an unknown CA is a 401, as with Go's
tls.RequestClientCert, not a failed handshake. Verified: issued directly by one of the
CAs (issuer name and signature), inside its validity window, and good for client
authentication (no extended key usage, or clientAuth or anyExtendedKeyUsage).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID


def issued_by_one_of(cert: x509.Certificate, cas: Iterable[x509.Certificate]) -> bool:
    for ca in cas:
        if cert.issuer != ca.subject:
            continue
        try:
            cert.verify_directly_issued_by(ca)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def good_for_client_auth(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages


def client_certificate_refusal(cert: x509.Certificate, cas: Iterable[x509.Certificate],
                               now: dt.datetime) -> str | None:
    """Why `cert` logs nobody in (Go's wording), or None when it is good."""
    if not issued_by_one_of(cert, cas):
        return "certificate signed by unknown authority"
    if now < cert.not_valid_before_utc or now > cert.not_valid_after_utc:
        return "certificate has expired or is not yet valid"
    if not good_for_client_auth(cert):
        return "certificate specifies an incompatible key usage"
    return None
