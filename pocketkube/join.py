"""`pocketkube token create` and `pocketkube join`: adding a node with a bootstrap token, as
kubeadm does.

  token create   makes a bootstrap token (a Secret in kube-system, valid --ttl) good for
                 joining (group system:bootstrappers:kubeadm:default-node-token) and prints
                 the command a new node runs (tokens.py; also token list, token delete):
                   pocketkube join https://SERVER:PORT --token ID.SECRET \\
                       --discovery-token-ca-cert-hash sha256:HASH
  join           reads kube-public/cluster-info without credentials (the server's URL and the
                 cluster CA), refuses it unless it carries a signature made with the token
                 (jws-kubeconfig-ID, which the bootstrapsigner controller writes; waited for up
                 to --discovery-timeout) and the CA's public key has that hash (kubeadm's
                 pin: SHA-256 of the CA's SubjectPublicKeyInfo), writes a bootstrap kubeconfig
                 with the token, and runs the node agent with --bootstrap-kubeconfig: the node
                 gets its client certificate through a CertificateSigningRequest.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import secrets
import string
import sys

import yaml

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
JOIN_GROUP = "system:bootstrappers:kubeadm:default-node-token"


def ca_cert_hash(ca_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    spki = x509.load_pem_x509_certificate(ca_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def new_token() -> tuple[str, str]:
    pick = lambda n: "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(n))  # noqa: E731
    return pick(6), pick(16)


def token_secret(token_id: str, token_secret: str, ttl_s: float, now: dt.datetime) -> dict:
    data = {"token-id": token_id, "token-secret": token_secret, "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true", "auth-extra-groups": JOIN_GROUP,
            "description": "made by pocketkube token create"}
    if ttl_s > 0:
        data["expiration"] = (now + dt.timedelta(seconds=ttl_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def add_join_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", help="the API server, https://HOST:PORT")
    p.add_argument("--token", required=True)
    p.add_argument("--discovery-token-ca-cert-hash", required=True, help="sha256:HEX of the cluster CA's public key")
    p.add_argument("--node-name", default=None)
    p.add_argument("--root-dir", default=None, help="the node agent's directory (default /var/lib/pocketkube/nodeagent/NODE)")
    p.add_argument("--discovery-timeout", default="5m", help="how long to wait for cluster-info signed with the token")


class DiscoveryRefused(RuntimeError):
    """cluster-info is not what the token and the pin say the cluster's is."""


def check_cluster_info(data: dict, token: str, pin: str) -> dict:
    """The cluster entry of cluster-info's kubeconfig once its signature (made with `token`)
    and its CA (against `pin`) check out (pure). LookupError: not signed for this token (yet)."""
    from kubeclient.bootstraptokens import SIGNATURE_PREFIX, signature_is_valid

    token_id, _, secret = token.partition(".")
    content = data.get("kubeconfig")
    if content is None:
        raise DiscoveryRefused("kube-public/cluster-info has no kubeconfig")
    jws = data.get(SIGNATURE_PREFIX + token_id)
    if jws is None:
        raise LookupError(f"there is no JWS signed token in the cluster-info ConfigMap for token ID {token_id!r} "
                          "(the token is unknown to this cluster, or it is not signed yet)")
    if not signature_is_valid(jws, content, token_id, secret):
        raise DiscoveryRefused(f"cluster-info's signature for token ID {token_id!r} does not match: "
                               "refusing to join (the token is wrong, or cluster-info is not the cluster's)")
    cluster = yaml.safe_load(content)["clusters"][0]["cluster"]
    ca_pem = base64.b64decode(cluster["certificate-authority-data"])
    if ca_cert_hash(ca_pem) != pin.lower():
        raise DiscoveryRefused(f"the cluster CA's hash is {ca_cert_hash(ca_pem)}, not {pin}: refusing to join")
    return cluster


def discover(server: str, token: str, pin: str, timeout: float = 300.0) -> dict:
    """The bootstrap kubeconfig: cluster-info's server and CA, checked against the token's
    signature and the pin, with the token."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    delay = 0.5
    while True:
        r = httpx.get(server.rstrip("/") + "/api/v1/namespaces/kube-public/configmaps/cluster-info", verify=False,
                      timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"cannot read kube-public/cluster-info from {server}: HTTP {r.status_code}")
        try:
            cluster = check_cluster_info(r.json().get("data") or {}, token, pin)
            break
        except LookupError as e:
            if time.monotonic() + delay > deadline:
                raise RuntimeError(str(e)) from None
            print(f"pocketkube join: {e}; retrying", file=sys.stderr)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    # Talk to the server the user named (it answered), trusting only the pinned CA from now on.
    return {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "kubernetes", "cluster": {"server": server,
                                                            "certificate-authority-data": cluster["certificate-authority-data"]}}],
            "users": [{"name": "tls-bootstrap-token-user", "user": {"token": token}}],
            "contexts": [{"name": "tls-bootstrap", "context": {"cluster": "kubernetes",
                                                               "user": "tls-bootstrap-token-user"}}],
            "current-context": "tls-bootstrap", "preferences": {}}


def run_join(ns: argparse.Namespace, rest: list[str]) -> int:
    import socket

    from nodeagent.agent import default_root

    node = ns.node_name or socket.gethostname().lower()
    root = ns.root_dir or default_root(node)
    try:
        from kubeclient.durations import duration
        config = discover(ns.server, ns.token, ns.discovery_token_ca_cert_hash, duration(ns.discovery_timeout))
    except (RuntimeError, OSError, KeyError, ValueError, IndexError, TypeError) as e:
        print(f"pocketkube join: {e}", file=sys.stderr)
        return 1
    os.makedirs(root, exist_ok=True)
    bootstrap = os.path.join(root, "bootstrap-kubelet.kubeconfig")
    fd = os.open(bootstrap, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    from nodeagent.main import run as run_nodeagent
    return run_nodeagent(["--bootstrap-kubeconfig", bootstrap, "--kubeconfig", os.path.join(root, "kubelet.kubeconfig"),
                          "--node-name", node, "--root-dir", root, "--rotate-certificates",
                          "--rotate-server-certificates", *rest])
