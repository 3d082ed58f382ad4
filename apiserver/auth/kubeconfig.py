"""kubeconfig files for the admin and for components (node agents, controllers).

One cluster entry (server URL + CA data), one user entry (bearer token or client
cert), one context `<user>@kubernetes`, set as current: the names kubeadm writes
(its admin.conf: cluster `kubernetes`, context `kubernetes-admin@kubernetes`).
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

CLUSTER_NAME = "kubernetes"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def render_kubeconfig(*, server: str, ca_pem: bytes, user: str, token: str | None = None,
                      client_cert_pem: bytes | None = None, client_key_pem: bytes | None = None,
                      cluster: str = CLUSTER_NAME) -> dict:
    creds: dict = {}
    if token:
        creds["token"] = token
    if client_cert_pem and client_key_pem:
        creds["client-certificate-data"] = _b64(client_cert_pem)
        creds["client-key-data"] = _b64(client_key_pem)
    context = f"{user}@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": creds}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: Path, config: dict) -> Path:
    """Write with mode 0600 (it holds a credential), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    os.replace(tmp, path)
    return path


def server_url(host: str, port: int) -> str:
    """https://host:port, with IPv6 literals bracketed."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"https://{host}:{port}"
