"""Kubeconfig loading: which server, how to trust it, how to prove who we are.

Parsing (`parse_kubeconfig`) is pure so it can be unit-tested; `load_kubeconfig`
reads the file and resolves relative paths against the file's directory, as
kubectl does.
"""
from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass

import yaml


@dataclass(slots=True)
class ClusterConfig:
    server: str
    ca_pem: str | None = None  # PEM text of the CA bundle
    insecure: bool = False
    token: str | None = None
    client_cert_pem: str | None = None
    client_key_pem: str | None = None
    context: str = ""
    namespace: str = "default"

    def ssl_context(self) -> ssl.SSLContext | bool:
        """An SSLContext for httpx; False when TLS verification is switched off."""
        if not self.server.startswith("https"):
            return False
        if self.insecure and not self.client_cert_pem:
            return False
        ctx = ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_pem:
            ctx = ssl.create_default_context(cadata=self.ca_pem)
        if self.client_cert_pem and self.client_key_pem:
            # ssl can only load a key pair from files: write them privately, load, remove.
            with tempfile.TemporaryDirectory() as d:
                cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
                for path, text in ((cert, self.client_cert_pem), (key, self.client_key_pem)):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                    with os.fdopen(fd, "w") as f:
                        f.write(text)
                ctx.load_cert_chain(cert, key)
        return ctx


class KubeconfigError(ValueError):
    pass


def _by_name(items: list | None, name: str, what: str) -> dict:
    for item in items or []:
        if item.get("name") == name:
            return item.get(what) or {}
    raise KubeconfigError(f"{what} {name!r} not found in kubeconfig")


def _data_or_file(section: dict, key: str, base_dir: str, read_file) -> str | None:
    """`<key>-data` (base64) wins over `<key>` (a path, relative to the kubeconfig)."""
    data = section.get(f"{key}-data")
    if data:
        return base64.b64decode(data).decode()
    path = section.get(key)
    if path:
        return read_file(path if os.path.isabs(path) else os.path.join(base_dir, path))
    return None


def _read_text(path: str) -> str:
    with open(path) as f:
        return f.read()


def parse_kubeconfig(doc: dict, context: str | None = None, base_dir: str = ".", read_file=_read_text) -> ClusterConfig:
    if not isinstance(doc, dict):
        raise KubeconfigError("kubeconfig is not a mapping")
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise KubeconfigError("kubeconfig has no current-context")
    ctx = _by_name(doc.get("contexts"), ctx_name, "context")
    cluster = _by_name(doc.get("clusters"), ctx.get("cluster", ""), "cluster")
    user = _by_name(doc.get("users"), ctx["user"], "user") if ctx.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"cluster {ctx.get('cluster')!r} has no server")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = read_file(user["tokenFile"]).strip()
    return ClusterConfig(
        server=server.rstrip("/"),
        ca_pem=_data_or_file(cluster, "certificate-authority", base_dir, read_file),
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        token=token,
        client_cert_pem=_data_or_file(user, "client-certificate", base_dir, read_file),
        client_key_pem=_data_or_file(user, "client-key", base_dir, read_file),
        context=ctx_name,
        namespace=ctx.get("namespace") or "default",
    )


def load_kubeconfig(path: str | None = None, context: str | None = None) -> ClusterConfig:
    path = path or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    with open(path) as f:
        doc = yaml.safe_load(f)
    return parse_kubeconfig(doc, context, os.path.dirname(os.path.abspath(path)))
