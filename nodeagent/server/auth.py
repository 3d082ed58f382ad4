"""Who may use the kubelet API, decided as the kubelet decides it.

Authentication, in the kubelet's order: a client certificate of the cluster CA (CN: the
user, O: the groups, as the API server reads them; the TLS layer takes any certificate,
as the kubelet's RequestClientCert does, and it is verified here, so that one of another
CA is a 401, not a failed handshake),
then a bearer token, which the API server is asked about (TokenReview); with neither,
anonymous (system:anonymous) when --anonymous-auth, else 401.

Authorization (--authorization-mode=Webhook, the default here as kubeadm configures
kubelets): a SubjectAccessReview for the node, resource `nodes`, subresource from the
path (stats, metrics, log, spec, checkpoint, or proxy for everything else: exec,
attach, portForward, containerLogs, pods, ...), verb from the method. AlwaysAllow
skips the question. Answers are cached as the kubelet caches them (authenticated
tokens 2 minutes; authorized 5 minutes, refused 30 seconds).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from tlspeer.verify import client_certificate_refusal

from kubeclient import ApiError, Resource

TOKENREVIEWS = Resource("authentication.k8s.io", "v1", "tokenreviews", False)
SUBJECTACCESSREVIEWS = Resource("authorization.k8s.io", "v1", "subjectaccessreviews", False)
AUTHENTICATED = "system:authenticated"
ANONYMOUS = ("system:anonymous", ("system:unauthenticated",))
TOKEN_TTL, ALLOWED_TTL, DENIED_TTL = 120.0, 300.0, 30.0
_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_SUBRESOURCES = (("/stats", "stats"), ("/metrics", "metrics"), ("/logs/", "log"), ("/spec", "spec"),
                 ("/checkpoint/", "checkpoint"))


@dataclass(frozen=True)
class Caller:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple = ()


def request_attributes(method: str, path: str) -> tuple[str, str]:
    """(verb, subresource of nodes) the kubelet asks about for a request (pure)."""
    verb = _VERBS.get(method.upper(), "get")
    for prefix, sub in _SUBRESOURCES:
        if path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/"):
            return verb, sub
    return verb, "proxy"


def certificate_caller(pem: str, cas: list[x509.Certificate] | None = None,
                       now: dt.datetime | None = None, intermediates: tuple[str, ...] = ()) -> Caller | None:
    """The caller a client certificate names; None when it names none or, given `cas`, is not
    one of theirs (directly or through `intermediates`), valid now and good for client auth."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
        between = [x509.load_pem_x509_certificate(p.encode()) for p in intermediates]
    except ValueError:
        return None
    if cas is not None and client_certificate_refusal(cert, cas, now or dt.datetime.now(dt.timezone.utc), between):
        return None
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns or not cns[0].value:
        return None
    groups = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return Caller(str(cns[0].value), tuple(groups) + ((AUTHENTICATED,) if AUTHENTICATED not in groups else ()))


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for k, v in headers:
        if k.lower() == b"authorization":
            scheme, _, token = v.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class KubeletAuth:
    def __init__(self, client, node_name: str, *, anonymous: bool = False, authorization_mode: str = "Webhook",
                 client_ca_pem: str | None = None):
        self.client, self.node_name = client, node_name
        # certificates the TLS layer took without judging them are verified against these
        self.cas = x509.load_pem_x509_certificates(client_ca_pem.encode()) if client_ca_pem else None
        self.anonymous, self.webhook = anonymous, authorization_mode == "Webhook"
        self._tokens: dict[str, tuple[Caller | None, float]] = {}
        self._decisions: dict[tuple, tuple[bool, float]] = {}

    async def authenticate(self, scope) -> Caller | None:
        tls = (scope.get("extensions") or {}).get("tls") or {}
        chain = tls.get("client_cert_chain") or ()
        if chain:
            verified = tls.get("client_cert_error") is None   # by OpenSSL, in the handshake
            if verified or self.cas is not None:
                # one that logs nobody in leaves the token to try, as the kubelet's authenticators chain
                caller = certificate_caller(chain[0], None if verified else self.cas, intermediates=tuple(chain[1:]))
                if caller is not None:
                    return caller
        token = bearer_token(scope.get("headers") or [])
        if token is not None:
            return await self._review_token(token)
        return Caller(*ANONYMOUS) if self.anonymous else None

    async def _review_token(self, token: str) -> Caller | None:
        now = time.monotonic()
        known = self._tokens.get(token)
        if known is not None and now < known[1]:
            return known[0]
        review = await self.client.create(TOKENREVIEWS, {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
        status = review.get("status") or {}
        caller = None
        if status.get("authenticated"):
            u = status.get("user") or {}
            caller = Caller(u.get("username", ""), tuple(u.get("groups") or ()), u.get("uid", ""),
                            tuple(sorted((k, tuple(v)) for k, v in (u.get("extra") or {}).items())))
        if len(self._tokens) > 4096:
            self._tokens.clear()
        self._tokens[token] = (caller, now + (TOKEN_TTL if caller else DENIED_TTL))
        return caller

    async def authorize(self, caller: Caller, method: str, path: str) -> tuple[bool, str, str]:
        """(allowed, verb, subresource)."""
        verb, sub = request_attributes(method, path)
        if not self.webhook:
            return True, verb, sub
        key = (caller, verb, sub)
        now = time.monotonic()
        known = self._decisions.get(key)
        if known is not None and now < known[1]:
            return known[0], verb, sub
        try:
            review = await self.client.create(SUBJECTACCESSREVIEWS, {
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": {"user": caller.name, "groups": list(caller.groups), "uid": caller.uid,
                         "extra": {k: list(v) for k, v in caller.extra},
                         "resourceAttributes": {"verb": verb, "resource": "nodes", "subresource": sub,
                                                "name": self.node_name, "version": "v1"}}})
        except ApiError:
            return False, verb, sub   # not cached: the API server may just be away
        allowed = bool((review.get("status") or {}).get("allowed"))
        if len(self._decisions) > 4096:
            self._decisions.clear()
        self._decisions[key] = (allowed, now + (ALLOWED_TTL if allowed else DENIED_TTL))
        return allowed, verb, sub


class RequireAuth:
    """ASGI middleware: every HTTP request and WebSocket of the kubelet API is authenticated
    and authorized first (401 "Unauthorized" / 403 "Forbidden (user=..., ...)", as the kubelet words them)."""

    def __init__(self, app, auth: KubeletAuth):
        self.app, self.auth = app, auth

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        try:
            caller = await self.auth.authenticate(scope)
        except ApiError:
            caller = None
        if caller is None:
            return await _refuse(scope, send, 401, "Unauthorized")
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        allowed, verb, sub = await self.auth.authorize(caller, method, scope.get("path", ""))
        if not allowed:
            return await _refuse(scope, send, 403, f"Forbidden (user={caller.name}, verb={verb}, resource=nodes, "
                                                   f"subresource={sub})")
        return await self.app(scope, receive, send)


async def _refuse(scope, send, code: int, text: str) -> None:
    body = text.encode()
    start = {"status": code, "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                         (b"content-length", str(len(body)).encode())]}
    if scope["type"] == "websocket":
        # ASGI's denial response (hypercorn sends it as the HTTP answer to the upgrade)
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "http.response.start", **start})
    await send({"type": "http.response.body", "body": body})
