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
from apiserver.http.audit.middleware import IMPERSONATED_KEY, USER_KEY
from apiserver.http.responses import status_response
from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo


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


async def authenticate_request(authenticator, scope) -> UserInfo | None:
    """The user a request runs as (None: no credentials it accepts). Leaves in the scope, for the
    audit log, who sent it (USER_KEY) and, when Impersonate-* headers name someone, whom it
    acts as (IMPERSONATED_KEY): upstream audits the requester as `user`, the other as
    `impersonatedUser`. An authenticator without the two steps (a test's) is asked once."""
    headers = request_credentials(scope)
    requester_of = getattr(authenticator, "authenticate_requester", None)
    if requester_of is None:
        user = await authenticator.authenticate(headers)
        scope[USER_KEY] = user
        return user
    requester = await requester_of(headers)
    if requester is None:
        return None
    scope[USER_KEY] = requester     # so a refused impersonation is audited as its sender's
    user = await authenticator.impersonate(requester, headers)
    if user is not requester:
        scope[IMPERSONATED_KEY] = user
    return user


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
