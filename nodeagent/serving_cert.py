"""The kubelet API's serving certificate through a CertificateSigningRequest, as the kubelet
does it with --rotate-server-certificates (serverTLSBootstrap).

The node agent, once its Node is registered, makes a key and asks signer
kubernetes.io/kubelet-serving for CN system:node:<node>, O system:nodes, with its
addresses as subjectAltNames (the Node's InternalIP as an IP name, its hostname as a
DNS name); csrapproving approves it when the request is the node's own and names only
addresses the Node reports. The certificate and key live in the agent's pki directory
(kubelet-server.crt/.key), are reused while they name the same addresses and are not in
the last fifth of their life, and are renewed in that last fifth; the server loads each
new pair for the connections that follow (open ones keep theirs).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeclient import ApiClient, ApiError

from .bootstrap import ROTATION_CHECK_INTERVAL, key_pem, renewal_due, request_certificate

log = logging.getLogger(__name__)

SIGNER = "kubernetes.io/kubelet-serving"
USAGES = ["digital signature", "server auth"]   # an ECDSA key, as the kubelet asks


def subject_alt_names(addresses: list[str]) -> list[x509.GeneralName]:
    """IP names for addresses, DNS names for the rest, in order, without repeats (pure)."""
    names: list[x509.GeneralName] = []
    for a in addresses:
        try:
            name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(a))
        except ValueError:
            name = x509.DNSName(a)
        if name not in names:
            names.append(name)
    return names


def serving_request(node_name: str, addresses: list[str], key: ec.EllipticCurvePrivateKey) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}")])
    return (x509.CertificateSigningRequestBuilder().subject_name(subject)
            .add_extension(x509.SubjectAlternativeName(subject_alt_names(addresses)), critical=False)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def usable(cert_pem: bytes, addresses: list[str], ca_pem: str | None) -> bool:
    """A certificate still good to serve with: issued by the cluster CA, naming exactly these
    addresses, not due for renewal (pure but for the clock)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        cas = x509.load_pem_x509_certificates(ca_pem.encode()) if ca_pem else []
    except (ValueError, x509.ExtensionNotFound):
        return False
    if not any(cert.issuer == ca.subject and _signed_by(cert, ca) for ca in cas):
        return False
    return set(sans) == set(subject_alt_names(addresses)) and not renewal_due(cert)


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


class ServingCertificate:
    """The files the kubelet API serves with, obtained and renewed through CSRs."""

    def __init__(self, client: ApiClient, node_name: str, addresses: list[str], pki_dir: str):
        self.client, self.node_name, self.addresses = client, node_name, list(addresses)
        self.cert_path = os.path.join(pki_dir, "kubelet-server.crt")
        self.key_path = os.path.join(pki_dir, "kubelet-server.key")

    def _current(self) -> bytes | None:
        try:
            with open(self.cert_path, "rb") as f:
                pem = f.read()
        except OSError:
            return None
        usable_now = os.path.exists(self.key_path) and usable(pem, self.addresses, self.client.config.ca_pem)
        return pem if usable_now else None

    async def ensure(self) -> tuple[str, str]:
        """(certificate path, key path): the files on disk when still usable, else new ones."""
        if self._current() is None:
            await self._renew()
        return self.cert_path, self.key_path

    async def _renew(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert_pem = await request_certificate(self.client, serving_request(self.node_name, self.addresses, key),
                                             SIGNER, USAGES, "serving certificate")
        os.makedirs(os.path.dirname(self.cert_path), exist_ok=True)
        fd = os.open(self.key_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem(key))
        with open(self.cert_path + ".tmp", "wb") as f:
            f.write(cert_pem)
        os.replace(self.key_path + ".tmp", self.key_path)
        os.replace(self.cert_path + ".tmp", self.cert_path)
        log.info("serving certificate for system:node:%s (%s) issued", self.node_name, ", ".join(self.addresses))

    async def rotate(self, reload: Callable[[str, str], None], interval: float = ROTATION_CHECK_INTERVAL) -> None:
        """Renew in the certificate's last fifth of life and `reload` the server with the new pair."""
        while True:
            await asyncio.sleep(interval)
            if self._current() is not None:
                continue
            try:
                await self._renew()
            except (ApiError, RuntimeError) as e:
                log.warning("serving certificate rotation failed (retrying): %s", e)
                continue
            reload(self.cert_path, self.key_path)
