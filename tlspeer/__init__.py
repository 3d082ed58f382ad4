"""Client certificates for ASGI apps served by hypercorn: asked for in every TLS handshake,
handed to the app in each request's scope. Used by the API server's serving layer and by
the node agent's kubelet API.

kube-apiserver asks each client for a certificate and accepts whatever it sends
(Go's tls.RequestClientCert); its x509 authenticator verifies it later, so a
certificate from another CA is a 401, not a failed handshake, and a client with
none carries on to token authentication. Two things stand in the way here:

  * Python's ssl module can only ask for a certificate together with OpenSSL
    verifying it (CERT_OPTIONAL): any unknown certificate kills the handshake.
    OpenSSL takes a verify callback that may accept anyway; Python keeps one that
    is already set on the context (its verify_mode setter reuses the current
    callback), so one is set through ctypes, on the SSL_CTX behind the context,
    found where CPython keeps it and checked against what Python reports before
    it is touched. If that check fails, the fallback is CERT_OPTIONAL with the
    client CA loaded: certificates of that CA still log in, others fail the
    handshake instead of getting a 401.
  * hypercorn does not pass the peer certificate to the app. The connection's
    TLS object is at hand when the connection starts, so each request's scope
    gets the ASGI TLS extension there: scope["extensions"]["tls"]["client_cert_chain"]
    (PEM strings, the client's own first, then the intermediates it sent: chain.py). The app, knowing no server, reads
    that and verifies it itself (apiserver/auth/x509.py).

  request_client_certificates(cfg, client_ca_file)   before serving
"""
from __future__ import annotations

import ctypes
import logging
import ssl
from pathlib import Path

from .chain import peer_intermediates

log = logging.getLogger("apiserver")

_SSL_VERIFY_PEER = 0x01
# int verify_callback(int preverify_ok, X509_STORE_CTX *ctx)
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


@_VERIFY_CALLBACK
def _accept_any_certificate(preverify_ok: int, store_ctx: int) -> int:
    return 1   # the app verifies the chain; OpenSSL only collects it


def _libssl():
    """libssl as the interpreter's _ssl module links it (dlsym searches its dependencies)."""
    import _ssl

    lib = ctypes.CDLL(_ssl.__file__)
    lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
    lib.SSL_CTX_set_verify.restype = None
    lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
    lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_options.restype = ctypes.c_uint64
    return lib


def _ssl_ctx_pointer(context: ssl.SSLContext) -> int | None:
    """The SSL_CTX* of a context: CPython's PySSLContext holds it right after the object
    header. Returned only when OpenSSL, read through it, agrees with what Python reports."""
    try:
        lib = _libssl()
        ptr = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
        if not ptr:
            return None
        if lib.SSL_CTX_get_verify_mode(ptr) != _SSL_VERIFY_PEER:   # CERT_OPTIONAL, set just before
            return None
        if lib.SSL_CTX_get_options(ptr) != int(context.options):
            return None
        return ptr
    except (OSError, AttributeError, ValueError):
        return None


def ask_for_any_certificate(context: ssl.SSLContext, client_ca_file: Path) -> bool:
    """Make a server context ask every client for a certificate. True: any certificate is
    accepted at the TLS layer (the app verifies); False: only the client CA's are."""
    context.load_verify_locations(str(client_ca_file))
    context.verify_mode = ssl.CERT_OPTIONAL
    ptr = _ssl_ctx_pointer(context)
    if ptr is None:
        log.warning("TLS: cannot accept client certificates of unknown CAs at the TLS layer; "
                    "they fail the handshake instead of getting a 401")
        return False
    _libssl().SSL_CTX_set_verify(ptr, _SSL_VERIFY_PEER, _accept_any_certificate)
    return True


_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


NOT_VERIFIED = "not verified by the server: the application verifies it"


def tls_extension(ssl_object, verified: bool) -> dict | None:
    """The ASGI TLS extension for a connection (None without TLS)."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    # Python before 3.13 exposes the client's own certificate only: the intermediates are read
    # from OpenSSL (chain.py)
    chain = []
    if der:
        intermediates = [d for d in peer_intermediates(ssl_object) if d != der]
        chain = [ssl.DER_cert_to_PEM_cert(d) for d in [der, *intermediates]]
    return {"client_cert_chain": chain, "client_cert_name": None,
            "client_cert_error": None if verified or not chain else NOT_VERIFIED,
            "tls_version": _TLS_VERSIONS.get(ssl_object.version()), "cipher_suite": None, "server_cert": None}


class _WithTLSExtension:
    """hypercorn's app wrapper for one connection: each scope gets the connection's TLS extension."""

    def __init__(self, app, tls: dict):
        self.app, self.tls = app, tls

    async def __call__(self, scope, receive, send, sync_spawn, call_soon):
        if scope.get("type") in ("http", "websocket"):
            extensions = scope.get("extensions")
            if extensions is None:
                extensions = scope["extensions"] = {}
            extensions["tls"] = self.tls
        return await self.app(scope, receive, send, sync_spawn, call_soon)


def install() -> None:
    """Every new connection (hypercorn's asyncio TCPServer, or whatever subclass of it is
    already installed) wraps the app with its TLS extension, known once the handshake is done."""
    from hypercorn.asyncio import run as hyper_run

    base = hyper_run.TCPServer
    if getattr(base, "pocketkube_tls_extension", False):
        return

    class TCPServerWithTLSExtension(base):
        pocketkube_tls_extension = True

        def __init__(self, app, loop, config, context, state, reader, writer, *args, **kwargs):
            tls = tls_extension(writer.get_extra_info("ssl_object"),
                                getattr(config, "pocketkube_client_certs_verified", False))
            if tls is not None:
                app = _WithTLSExtension(app, tls)
            super().__init__(app, loop, config, context, state, reader, writer, *args, **kwargs)

    hyper_run.TCPServer = TCPServerWithTLSExtension


def request_client_certificates(cfg, client_ca_file: Path, *, accept_any: bool = True) -> None:
    """Set a hypercorn Config up so that clients are asked for certificates and the app sees them."""
    install()
    make_context = cfg.create_ssl_context
    cfg.pocketkube_client_certs_verified = not accept_any

    def create_ssl_context():
        context = make_context()
        if context is None:
            return None
        if accept_any:
            cfg.pocketkube_client_certs_verified = not ask_for_any_certificate(context, client_ca_file)
        else:
            context.load_verify_locations(str(client_ca_file))
            context.verify_mode = ssl.CERT_OPTIONAL
        return context

    cfg.create_ssl_context = create_ssl_context
