"""`pocketkube token create` and `pocketkube join`: adding a node with a bootstrap token, as
kubeadm does.

  token create   makes a bootstrap token (a Secret in kube-system, valid --ttl) good for
                 joining (group system:bootstrappers:kubeadm:default-node-token) and prints
                 the command a new node runs:
                   pocketkube join https://SERVER:PORT --token ID.SECRET \\
                       --discovery-token-ca-cert-hash sha256:HASH
  join           reads kube-public/cluster-info without credentials (the server's URL and the
                 cluster CA), refuses it unless the CA's public key has that hash (kubeadm's
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


def add_token_flags(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    sub.required = True
    create = sub.add_parser("create", help="make a bootstrap token and print the join command")
    create.add_argument("--kubeconfig", default=None, help="admin kubeconfig (default: DATA_DIR/admin.kubeconfig)")
    create.add_argument("--data-dir", default="_output/local-up")
    create.add_argument("--ttl", default="24h", help="how long the token is valid (Go duration; 0: forever)")


def add_join_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", help="the API server, https://HOST:PORT")
    p.add_argument("--token", required=True)
    p.add_argument("--discovery-token-ca-cert-hash", required=True, help="sha256:HEX of the cluster CA's public key")
    p.add_argument("--node-name", default=None)
    p.add_argument("--root-dir", default=None, help="the node agent's directory (default /var/lib/pocketkube/nodeagent/NODE)")


def run_token(ns: argparse.Namespace) -> int:
    import asyncio

    from kubeclient.durations import duration
    from kubeclient import ApiClient, ApiError, load_kubeconfig
    from kubeclient.resources import SECRETS

    kubeconfig = ns.kubeconfig or os.path.join(ns.data_dir, "admin.kubeconfig")
    cfg = load_kubeconfig(kubeconfig)
    token_id, secret = new_token()

    async def create() -> None:
        client = ApiClient(cfg, user_agent="pocketkube-token")
        try:
            await client.create(SECRETS, token_secret(token_id, secret, duration(ns.ttl),
                                                      dt.datetime.now(dt.timezone.utc)), "kube-system")
        finally:
            await client.close()
    try:
        asyncio.run(create())
    except ApiError as e:
        print(f"pocketkube token create: {e}", file=sys.stderr)
        return 1
    print(f"pocketkube join {cfg.server} --token {token_id}.{secret} "
          f"--discovery-token-ca-cert-hash {ca_cert_hash((cfg.ca_pem or '').encode())}")
    return 0


def discover(server: str, token: str, pin: str) -> dict:
    """The bootstrap kubeconfig: cluster-info's server and CA, checked against the pin, with the token."""
    import httpx

    r = httpx.get(server.rstrip("/") + "/api/v1/namespaces/kube-public/configmaps/cluster-info", verify=False,
                  timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"cannot read kube-public/cluster-info from {server}: HTTP {r.status_code}")
    info = yaml.safe_load(r.json()["data"]["kubeconfig"])
    cluster = info["clusters"][0]["cluster"]
    ca_pem = base64.b64decode(cluster["certificate-authority-data"])
    if ca_cert_hash(ca_pem) != pin.lower():
        raise RuntimeError(f"the cluster CA's hash is {ca_cert_hash(ca_pem)}, not {pin}: refusing to join")
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
        config = discover(ns.server, ns.token, ns.discovery_token_ca_cert_hash)
    except (RuntimeError, OSError, KeyError, ValueError) as e:
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
