"""TLS bootstrap, as the kubelet does it with --bootstrap-kubeconfig.

When the node agent's kubeconfig is missing, or its client certificate expires within a
fifth of its lifetime, the agent logs in with the bootstrap kubeconfig (a bootstrap token),
makes a key, asks for a node client certificate (a CertificateSigningRequest for
CN system:node:<node>, O system:nodes, signer kubernetes.io/kube-apiserver-client-kubelet,
which the controller manager approves and signs), waits for it, and writes its kubeconfig
with that certificate. From then on it is system:node:<node>.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import secrets

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeclient import ApiClient, ApiError, load_kubeconfig
from kubeclient.resources import CERTIFICATESIGNINGREQUESTS

log = logging.getLogger(__name__)

SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
USAGES = ["digital signature", "client auth"]   # an ECDSA key: no key encipherment, as the kubelet asks
ROTATION_CHECK_INTERVAL = 5.0


def needs_certificate(kubeconfig: str, now: dt.datetime | None = None) -> bool:
    """No usable kubeconfig, or its certificate is in the last fifth of its life (pure but for the file)."""
    if not os.path.exists(kubeconfig):
        return True
    try:
        cfg = load_kubeconfig(kubeconfig)
    except (OSError, ValueError, yaml.YAMLError):
        return True
    if not cfg.client_cert_pem:
        return not cfg.token
    return renewal_due(x509.load_pem_x509_certificate(cfg.client_cert_pem.encode()), now)


def renewal_due(cert: x509.Certificate, now: dt.datetime | None = None) -> bool:
    """The certificate is in the last fifth of its life (pure)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    return now >= cert.not_valid_after_utc - life / 5


def node_request(node_name: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}")])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM)


def _kubeconfig(server: str, ca_pem: str | None, node_name: str, cert_pem: bytes, key_pem: bytes) -> dict:
    user = f"system:node:{node_name}"
    cluster = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    return {"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "default-cluster", "cluster": cluster}],
            "users": [{"name": user, "user": {"client-certificate-data": base64.b64encode(cert_pem).decode(),
                                              "client-key-data": base64.b64encode(key_pem).decode()}}],
            "contexts": [{"name": "default-context", "context": {"cluster": "default-cluster", "user": user}}],
            "current-context": "default-context", "preferences": {}}


async def request_certificate(client: ApiClient, request_pem: bytes, signer: str, usages: list[str],
                              what: str, timeout: float = 300.0) -> bytes:
    """The certificate PEM issued for `request_pem` through a CertificateSigningRequest."""
    name = f"node-csr-{secrets.token_hex(8)}"
    await client.create(CERTIFICATESIGNINGREQUESTS, {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
        "spec": {"request": base64.b64encode(request_pem).decode(), "signerName": signer, "usages": usages}})
    log.info("asked for a %s: CertificateSigningRequest %s", what, name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.2
    while True:
        csr = await client.get(CERTIFICATESIGNINGREQUESTS, name)
        status = csr.get("status") or {}
        refused = [c for c in status.get("conditions") or [] if c.get("type") in ("Denied", "Failed")]
        if refused:
            raise RuntimeError(f"CertificateSigningRequest {name} {refused[0]['type'].lower()}: "
                               f"{refused[0].get('message', '')}")
        if status.get("certificate"):
            return base64.b64decode(status["certificate"])
        if loop.time() > deadline:
            raise RuntimeError(f"CertificateSigningRequest {name} was not approved and issued in {timeout:.0f}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


async def request_client_certificate(client: ApiClient, node_name: str, timeout: float = 300.0) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) issued for this node through a CertificateSigningRequest."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert_pem = await request_certificate(client, node_request(node_name, key), SIGNER, USAGES, "client certificate",
                                         timeout)
    return cert_pem, key_pem(key)


async def bootstrap_kubeconfig(bootstrap: str, kubeconfig: str, node_name: str) -> None:
    """Write `kubeconfig` with a node client certificate obtained with the `bootstrap` credentials."""
    cfg = load_kubeconfig(bootstrap)
    client = ApiClient(cfg, user_agent=f"pocketkube-nodeagent/{node_name} (bootstrap)")
    try:
        cert_pem, key_pem = await request_client_certificate(client, node_name)
    except ApiError as e:
        raise RuntimeError(f"TLS bootstrap with {bootstrap} failed: {e}") from None
    finally:
        await client.close()
    write_node_kubeconfig(kubeconfig, cfg.server, cfg.ca_pem, node_name, cert_pem, key_pem)
    log.info("wrote %s: client certificate for system:node:%s", kubeconfig, node_name)


def write_node_kubeconfig(kubeconfig: str, server: str, ca_pem: str | None, node_name: str, cert_pem: bytes,
                          key_pem: bytes) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(kubeconfig)), exist_ok=True)
    tmp = kubeconfig + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(_kubeconfig(server, ca_pem, node_name, cert_pem, key_pem), f, sort_keys=False)
    os.replace(tmp, kubeconfig)


async def rotate_client_certificate(client: ApiClient, kubeconfig: str, node_name: str,
                                    interval: float = ROTATION_CHECK_INTERVAL) -> None:
    """--rotate-certificates: once the kubeconfig's certificate enters the last fifth of its life,
    ask for a new one as the node itself (csrapproving approves a node's own renewal), write it
    and log in with it from then on. Pods are not touched."""
    while True:
        await asyncio.sleep(interval)
        if not needs_certificate(kubeconfig):
            continue
        try:
            cert_pem, key_pem = await request_client_certificate(client, node_name)
        except (ApiError, RuntimeError) as e:
            log.warning("client certificate rotation failed (retrying): %s", e)
            continue
        write_node_kubeconfig(kubeconfig, client.config.server, client.config.ca_pem, node_name, cert_pem, key_pem)
        client.use_client_certificate(cert_pem.decode(), key_pem.decode())
        log.info("rotated the client certificate of system:node:%s", node_name)
