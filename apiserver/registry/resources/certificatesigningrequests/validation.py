"""CertificateSigningRequest rules, as upstream's certificates validation words them.

On every write: spec.request is a PEM CERTIFICATE REQUEST whose signature checks out,
spec.usages is non-empty, known and without repeats, spec.signerName is
`<domain>/<path>` (and not the legacy one), spec.expirationSeconds is at least 600,
the conditions are well formed (Approved/Denied/Failed only "True", each type once,
Approved and Denied exclusive) and status.certificate is PEM CERTIFICATE blocks only.
On update: Approved, Denied and Failed conditions stay once added, and an issued
certificate never changes. Old stored data that broke a rule is tolerated, as upstream.
"""
from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
TRUE_ONLY = (APPROVED, DENIED, FAILED)
STATUSES = ("False", "True", "Unknown")
USAGES = ("any", "cert sign", "client auth", "code signing", "content commitment", "crl sign",
          "data encipherment", "decipher only", "digital signature", "email protection", "encipher only",
          "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment",
          "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping")
MIN_EXPIRATION_SECONDS = 600
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)
SIGNER_FORM = "must be a fully qualified domain and path of the form 'example.com/signer-name'"


def decode_bytes(value) -> bytes | None:
    """A []byte field as JSON carries it (base64); None when it is not base64."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def pem_blocks(data: bytes) -> list[tuple[str, bytes, bool]]:
    """(type, base64 body, has headers) of each PEM block, in order."""
    out = []
    for m in _PEM_BLOCK.finditer(data):
        body = m.group(2)
        out.append((m.group(1).decode(), body, b":" in body))
    return out


def parse_request(data: bytes | None) -> x509.CertificateSigningRequest:
    """The CSR in spec.request; ValueError with upstream's reason when it is not one."""
    blocks = pem_blocks(data or b"")
    if not blocks or blocks[0][0] != "CERTIFICATE REQUEST":
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    start = data.index(b"-----BEGIN CERTIFICATE REQUEST-----")
    end = data.index(b"-----END CERTIFICATE REQUEST-----", start) + len(b"-----END CERTIFICATE REQUEST-----")
    try:
        csr = x509.load_pem_x509_csr(data[start:end])
    except ValueError as e:
        raise ValueError(f"x509: malformed certificate request: {e}") from None
    if not csr.is_signature_valid:
        raise ValueError("x509: ECDSA verification failure" if "EC" in type(csr.public_key()).__name__
                         else "crypto/rsa: verification error")
    return csr


def certificate_error(data: bytes) -> str | None:
    if not data:
        return None
    blocks = pem_blocks(data)
    if not blocks:
        return "must contain at least one CERTIFICATE PEM block"
    for kind, body, headers in blocks:
        if kind != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{kind}"'
        if headers:
            return "no PEM block headers are permitted"
        try:
            x509.load_der_x509_certificate(base64.b64decode(b"".join(body.split())))
        except (ValueError, binascii.Error) as e:
            return f"x509: malformed certificate: {e}"
    return None


def signer_name_errors(path: str, name) -> list[Cause]:
    if not name:
        return [field.required(path, "")]
    if not isinstance(name, str):
        return []
    domain, slash, rest = name.partition("/")
    if not slash or not domain or not rest:
        return [field.invalid(path, name, SIGNER_FORM)]
    return [field.invalid(path, name, m) for m in names.is_dns1123_subdomain(domain)]


def _spec(obj: dict) -> dict:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _conditions(obj: dict) -> list[dict]:
    status = obj.get("status")
    conds = status.get("conditions") if isinstance(status, dict) else None
    return [c for c in conds if isinstance(c, dict)] if isinstance(conds, list) else []


def conditions_of(obj: dict, kind: str) -> list[dict]:
    return [c for c in _conditions(obj) if c.get("type") == kind]


def _certificate(obj: dict) -> bytes:
    status = obj.get("status")
    value = status.get("certificate") if isinstance(status, dict) else None
    return decode_bytes(value) or b"" if value else b""


def _conditions_errors(obj: dict, old: dict | None) -> list[Cause]:
    old_conds = _conditions(old) if old else []
    old_types = [c.get("type") for c in old_conds]
    tolerate_empty = "" in old_types or None in old_types
    tolerate_dupes = len(old_types) != len(set(old_types))
    tolerate_both = bool(old) and APPROVED in old_types and DENIED in old_types
    causes: list[Cause] = []
    seen: set = set()
    approved = denied = False
    for i, c in enumerate(_conditions(obj)):
        path = field.index("status.conditions", i)
        kind, status = c.get("type"), c.get("status")
        if not kind and not tolerate_empty:
            causes.append(field.required(field.child(path, "type"), ""))
        allowed = ("True",) if kind in TRUE_ONLY else STATUSES
        if not status:
            causes.append(field.required(field.child(path, "status"), ""))
        elif status not in allowed:
            causes.append(field.not_supported(field.child(path, "status"), status, allowed))
        if not tolerate_both and kind in (APPROVED, DENIED):
            if (kind == APPROVED and denied) or (kind == DENIED and approved):
                causes.append(field.invalid(field.child(path, "type"), kind,
                                            "Approved and Denied conditions are mutually exclusive"))
            approved, denied = approved or kind == APPROVED, denied or kind == DENIED
        if not tolerate_dupes:
            if kind in seen:
                causes.append(field.duplicate(field.child(path, "type"), kind))
            seen.add(kind)
    return causes


def validate_csr(obj: dict, old: dict | None = None) -> list[Cause]:
    spec, old_spec = _spec(obj), _spec(old) if old else {}
    causes: list[Cause] = []
    request = spec.get("request")
    if request is not None or not old:
        try:
            parse_request(decode_bytes(request))
        except ValueError as e:
            shown = request if isinstance(request, str) and len(request) <= 64 else "<request bytes>"
            causes.append(field.invalid("spec.request", shown, str(e)))
    usages = spec.get("usages")
    usages = usages if isinstance(usages, list) else []
    if not usages:
        causes.append(field.required("spec.usages", ""))
    old_usages = old_spec.get("usages") if isinstance(old_spec.get("usages"), list) else []
    if not any(u not in USAGES for u in old_usages):
        causes += [field.not_supported(field.index("spec.usages", i), u, USAGES)
                   for i, u in enumerate(usages) if u not in USAGES]
    if len(old_usages) == len(set(map(str, old_usages))):
        seen: set = set()
        for i, u in enumerate(usages):
            if u in seen:
                causes.append(field.duplicate(field.index("spec.usages", i), u))
            seen.add(u)
    signer = spec.get("signerName")
    if signer == LEGACY_UNKNOWN and old_spec.get("signerName") != LEGACY_UNKNOWN:
        causes.append(field.invalid("spec.signerName", signer,
                                    "the legacy signerName is not allowed via this API version"))
    elif signer != LEGACY_UNKNOWN:
        causes += signer_name_errors("spec.signerName", signer)
    seconds = spec.get("expirationSeconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds < MIN_EXPIRATION_SECONDS:
        causes.append(field.invalid("spec.expirationSeconds", seconds,
                                    "may not specify a duration less than 600 seconds (10 minutes)"))
    causes += _conditions_errors(obj, old)
    cert = _certificate(obj)
    if not (old and cert == _certificate(old)):
        problem = certificate_error(cert)
        if problem:
            causes.append(field.invalid("status.certificate", "<certificate data>", problem))
    return causes


def validate_csr_update(new: dict, old: dict) -> list[Cause]:
    causes = []
    for kind in TRUE_ONLY:
        if len(conditions_of(new, kind)) < len(conditions_of(old, kind)):
            causes.append(field.forbidden("status.conditions", f'updates may not remove a condition of type "{kind}"'))
    old_cert = _certificate(old)
    if old_cert and _certificate(new) != old_cert:
        causes.append(field.forbidden("status.certificate", "updates may not modify existing certificate content"))
    return causes
