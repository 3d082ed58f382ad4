"""What the kubernetes.io signers accept and what they issue (pure).

  kubernetes.io/kube-apiserver-client          any subject; usages: client auth, plus
                                               digital signature / key encipherment
  kubernetes.io/kube-apiserver-client-kubelet  O exactly system:nodes, CN system:node:<name>,
                                               no subjectAltNames; usages as above
  kubernetes.io/kubelet-serving                O system:nodes, CN system:node:<name>, at least
                                               one DNS or IP subjectAltName, no email or URI;
                                               usages: server auth, plus the two above

The certificate takes the request's subject, public key and subjectAltNames; it is valid
from five minutes ago (clock skew) for spec.expirationSeconds, at most the signer's maximum
(--cluster-signing-duration), and never beyond the CA's own expiry, as upstream.
"""
from __future__ import annotations

import base64
import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
SIGNERS = (KUBE_APISERVER_CLIENT, KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING)
NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"
BACKDATE = dt.timedelta(minutes=5)

_CLIENT_USAGES = ({"client auth"}, {"digital signature", "key encipherment", "client auth"})
_SERVING_USAGES = ({"server auth"}, {"digital signature", "key encipherment", "server auth"})


class SignerRefused(ValueError):
    """Why a signer will not issue for a request (the Failed condition's message)."""


def load_request(csr_obj: dict) -> x509.CertificateSigningRequest:
    try:
        return x509.load_pem_x509_csr(base64.b64decode((csr_obj.get("spec") or {}).get("request") or ""))
    except ValueError as e:
        raise SignerRefused(f"unable to parse csr: {e}") from None


def subject_alt_names(req: x509.CertificateSigningRequest):
    try:
        return req.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return x509.SubjectAlternativeName([])


def _check_usages(usages: list[str], required_and_allowed: tuple[set, set]) -> None:
    required, allowed = required_and_allowed
    if not required <= set(usages) or not set(usages) <= allowed:
        raise SignerRefused(f"usages did not match {sorted(allowed)}")


def _check_node_subject(req: x509.CertificateSigningRequest) -> None:
    orgs = [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if orgs != [NODES_GROUP]:
        raise SignerRefused("subject organization is not system:nodes")
    cns = [a.value for a in req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not cns or not str(cns[0]).startswith(NODE_PREFIX):
        raise SignerRefused("subject common name does not begin with system:node:")


def check_request(signer: str, req: x509.CertificateSigningRequest, usages: list[str]) -> None:
    """SignerRefused when `signer` does not issue what the request asks for."""
    sans = subject_alt_names(req)
    if signer == KUBE_APISERVER_CLIENT:
        _check_usages(usages, _CLIENT_USAGES)
    elif signer == KUBE_APISERVER_CLIENT_KUBELET:
        _check_usages(usages, _CLIENT_USAGES)
        _check_node_subject(req)
        if list(sans):
            raise SignerRefused("subjectAltNames are not allowed")
    elif signer == KUBELET_SERVING:
        _check_usages(usages, _SERVING_USAGES)
        _check_node_subject(req)
        if sans.get_values_for_type(x509.RFC822Name):
            raise SignerRefused("email subjectAltNames are not allowed")
        if sans.get_values_for_type(x509.UniformResourceIdentifier):
            raise SignerRefused("URI subjectAltNames are not allowed")
        if not (sans.get_values_for_type(x509.DNSName) or sans.get_values_for_type(x509.IPAddress)):
            raise SignerRefused("DNS or IP subjectAltName is required")
    else:
        raise SignerRefused(f"unknown signer {signer!r}")


def _key_usage(usages: list[str]) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature="digital signature" in usages, key_encipherment="key encipherment" in usages,
                         content_commitment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)


def issue(req: x509.CertificateSigningRequest, usages: list[str], ca_cert: x509.Certificate, ca_key,
          max_duration: dt.timedelta, expiration_seconds: int | None, now: dt.datetime) -> bytes:
    """The PEM certificate for an accepted request."""
    duration = max_duration
    if expiration_seconds is not None:
        duration = min(duration, dt.timedelta(seconds=expiration_seconds))
    not_after = min(now + duration, ca_cert.not_valid_after_utc)
    ekus = [oid for name, oid in (("client auth", ExtendedKeyUsageOID.CLIENT_AUTH),
                                  ("server auth", ExtendedKeyUsageOID.SERVER_AUTH)) if name in usages]
    builder = (x509.CertificateBuilder()
               .subject_name(req.subject).issuer_name(ca_cert.subject).public_key(req.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    key_usage = _key_usage(usages)
    if key_usage.digital_signature or key_usage.key_encipherment:   # no bits: no extension, as Go writes it
        builder = builder.add_extension(key_usage, critical=True)
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    sans = subject_alt_names(req)
    if list(sans):
        builder = builder.add_extension(sans, critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
