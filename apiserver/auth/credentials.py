"""Everything the API server needs on disk to serve and be reached, made once per data dir.

  DATA_DIR/pki/...             see pki.py
  DATA_DIR/tokens.csv          generated bearer tokens (admin and components)
  DATA_DIR/admin.kubeconfig    for kubectl, as kubeadm's admin.conf: CA data, https://127.0.0.1:PORT,
                               the client certificate of kubernetes-admin (group system:masters)

The admin also has a bearer token in tokens.csv (for hand-made requests). On
restart the same files are reused; only the kubeconfig's server URL is rewritten
(the port may change), never its credentials.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .kubeconfig import render_kubeconfig, server_url, write_kubeconfig
from .pki import ServingFiles, ensure_client_pair, ensure_pki, issue_client_cert, serving_sans
from .tokens import ADMIN_USER, MASTERS_GROUP, TokenAuthenticator

ADMIN_KUBECONFIG = "admin.kubeconfig"
# The cluster page's user: read-only (the pocketkube:cluster-viewer role is bound to its group).
PAGE_USER = "pocketkube:cluster-page"
PAGE_GROUP = "pocketkube:cluster-viewers"
PAGE_PATH = "/ui/"


@dataclass
class Credentials:
    data_dir: Path
    pki: ServingFiles
    tokens: TokenAuthenticator
    url: str                 # how local clients reach the server
    admin_kubeconfig: Path

    def kubeconfig_for(self, user: str, groups: list[str] | tuple[str, ...] = (), *,
                       path: Path | None = None, client_cert: bool = False) -> Path:
        """Write a kubeconfig for a component (node agent, controllers) with its own token.

        With client_cert=True the user entry carries a CA-signed client cert as
        well (CN=user, O=groups), for when certificate login is wired in.
        """
        token = self.tokens.issue_token(user, groups)
        cert = key = None
        if client_cert:
            cert, key = issue_client_cert(self.pki, user, list(groups))
        safe = user.replace(":", "-")
        path = path or self.data_dir / "kubeconfigs" / f"{safe}.kubeconfig"
        return write_kubeconfig(path, render_kubeconfig(
            server=self.url, ca_pem=self.pki.ca_cert.read_bytes(), user=user, token=token,
            client_cert_pem=cert, client_key_pem=key))


    def cluster_page_url(self) -> str:
        """The cluster page's address with its read-only token in the fragment, which the
        browser keeps to itself (the page's script reads it and sends it as a bearer token)."""
        return f"{self.url}{PAGE_PATH}#token={self.tokens.issue_token(PAGE_USER, [PAGE_GROUP])}"


def client_host(bind_address: str) -> str:
    """The address a local client dials for a server listening on bind_address."""
    if bind_address in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bind_address == "::":
        return "::1"
    return bind_address


def ensure_credentials(data_dir: Path, *, port: int, bind_address: str = "127.0.0.1",
                       advertise_address: str | None = None, first_service_ip: str = "10.96.0.1",
                       token_auth_file: Path | None = None) -> Credentials:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    extra = [a for a in (bind_address, advertise_address) if a]
    pki = ensure_pki(data_dir / "pki", serving_sans(first_service_ip=first_service_ip, extra_addresses=extra))
    tokens = TokenAuthenticator(data_dir / "tokens.csv", token_auth_file)
    tokens.admin_token()   # made once, kept in tokens.csv
    cert, key = ensure_client_pair(pki, pki.ca_cert.parent / "admin.crt", pki.ca_cert.parent / "admin.key",
                                   ADMIN_USER, [MASTERS_GROUP])
    url = server_url(client_host(bind_address), port)
    kubeconfig = write_kubeconfig(data_dir / ADMIN_KUBECONFIG, render_kubeconfig(
        server=url, ca_pem=pki.ca_cert.read_bytes(), user=ADMIN_USER, client_cert_pem=cert, client_key_pem=key))
    return Credentials(data_dir=data_dir, pki=pki, tokens=tokens, url=url, admin_kubeconfig=kubeconfig)
