"""Bad credentials are refused on every path, as kube-apiserver's authentication
filter refuses them before any handler runs.

The API routes (/api, /apis and everything under them, node proxies included)
and /openapi/... authenticate each request themselves. The other paths (/version, /healthz,
/livez, /readyz, unknown paths) serve callers without
credentials; a request that DOES carry a bearer token the server does not
accept is answered 401 there too, as upstream answers it (an invalid token is
an authentication error, never a fall-back to anonymous).

What authenticators read of a request is `request_credentials(scope)`: its
headers, and the client certificate chain the server passed in the scope
(the ASGI TLS extension), unverified: the x509 authenticator verifies it.
"""
from __future__ import annotations

from apiserver.auth.tokens import bearer_token
from apiserver.http.responses import status_response
from apiserver.machinery import errors


class RequestHeaders(dict):
    """Lower-cased name -> last value (what authenticators read), plus `getlist` for
    headers sent several times (Impersonate-Group), and the TLS client certificate
    chain (PEM strings, the client's own first; empty without one)."""

    def __init__(self, raw: list[tuple[str, str]], client_cert_chain: tuple = ()):
        super().__init__(raw)
        self.raw = raw
        self.client_cert_chain = client_cert_chain

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.raw if k == name]


def request_credentials(scope) -> RequestHeaders:
    tls = (scope.get("extensions") or {}).get("tls") or {}
    return RequestHeaders([(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
                          tuple(tls.get("client_cert_chain") or ()))


def _authenticates_itself(path: str) -> bool:
    return path in ("/api", "/apis") or path.startswith(("/api/", "/apis/", "/openapi/"))


class RefuseBadCredentials:
    """ASGI middleware; `authenticator` is the app's (bearer tokens, service accounts),
    `headers_of(scope)` builds the header view it reads (as the API routes build it)."""

    def __init__(self, app, authenticator, headers_of):
        self.app, self.authenticator, self.headers_of = app, authenticator, headers_of

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not _authenticates_itself(scope.get("path", "")):
            headers = self.headers_of(scope)
            if bearer_token(headers) is not None and await self.authenticator.authenticate(headers) is None:
                return await status_response(errors.unauthorized())(scope, receive, send)
        return await self.app(scope, receive, send)
