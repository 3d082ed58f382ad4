"""The ASGI application: routes built from the catalogue, one handler per verb.

A resource request walks: parse the path (requestinfo) → authenticate →
classify and wait for a seat (flowcontrol/: API Priority and Fairness) → authorize → find the resource → the verb's handler (handlers/) → the registry.
Every failure on the way is a Status object (machinery.errors).
"""
from __future__ import annotations

import logging
from typing import Protocol

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from apiserver.http import discovery
from apiserver.http.audit.middleware import DECISION_KEY, USER_KEY, AuditMiddleware
from apiserver.http.clusterpage import page_routes
from apiserver.http.context import RequestContext, Server
from apiserver.http.fast_route import api_first
from apiserver.http.flowcontrol.dispatcher import PF_HEADERS_KEY
from apiserver.http.credentials import RefuseBadCredentials, RequestHeaders, authenticate_request, request_credentials
from apiserver.http.handlers import delete as delete_h, patch as patch_h, read, subresource, watch as watch_h, \
    write
from apiserver.http.health import health_routes
from apiserver.http.metrics import INFO_KEY, ApiMetrics, MetricsMiddleware, metrics_endpoint
from apiserver.http.openapi import routes as openapi_routes
from apiserver.http.requestinfo import RequestInfo, parse_request_info
from apiserver.http.responses import raw_response, status_response
from apiserver.machinery import errors
from apiserver.machinery.user import ANONYMOUS, UserInfo

log = logging.getLogger("apiserver.http")


class Authenticator(Protocol):
    async def authenticate(self, scope_headers: dict[str, str]) -> UserInfo | None: ...


class Authorizer(Protocol):
    async def authorize(self, user: UserInfo, attributes: RequestInfo) -> tuple[bool, str]: ...


NOT_FOUND = "the server could not find the requested resource"

_VERBS = {
    "get": read.get, "list": read.list_, "watch": watch_h.watch, "create": write.create,
    "update": write.update, "patch": patch_h.patch, "delete": delete_h.delete,
    "deletecollection": delete_h.delete_collection,
}
_SUB_VERBS = {"get": subresource.get, "update": subresource.update, "create": subresource.create,
              "patch": patch_h.patch}


def _headers(scope) -> RequestHeaders:
    return request_credentials(scope)


def _forbidden(user: UserInfo, info: RequestInfo, reason: str) -> errors.StatusError:
    what = f'resource "{info.resource}"' if not info.subresource else \
        f'resource "{info.resource}/{info.subresource}"'
    where = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
    msg = f'{info.resource}{"." + info.group if info.group else ""}'
    msg = (f'{msg}{" " + repr(info.name).replace(chr(39), chr(34)) if info.name else ""} is forbidden: '
           f'User "{user.name}" cannot {info.verb} {what} in API group "{info.group}"{where}')
    if reason:
        msg += f": {reason}"
    return errors.forbidden(msg, name=info.name, group=info.group, kind=info.resource)


class _Derived:
    """The route table ((group, version, plural) -> (Resource, its store or None):
    one dict lookup per request) and the discovery documents, rebuilt on the
    first request after the catalogue's generation moves."""

    def __init__(self, cat, registries):
        self._cat, self._registries, self._generation, self._value = cat, registries, None, None

    def current(self) -> tuple[dict, discovery.DiscoveryDocuments]:
        if self._generation != self._cat.generation:
            reg = self._registries
            served = {(r.group, r.version, r.plural): (r, reg.lookup(r.group, r.version, r.plural))
                      for r in self._cat.resources()}
            self._value = (served, discovery.DiscoveryDocuments(self._cat))
            self._generation = self._cat.generation
        return self._value


def create_app(*, registries, authenticator: Authenticator, authorizer: Authorizer, admission_mutate,
               admission_validate, extra_routes: list | None = None, bookmark_interval: float = 5.0,
               anonymous_paths: tuple[str, ...] = (),
               metrics: ApiMetrics | None = None, audit: tuple | None = None, flowcontrol=None) -> Starlette:
    """`metrics`: what /metrics serves and every request is counted into (None: no /metrics).
    `audit`: (audit Policy, AuditLog) to audit requests with, or None.
    `flowcontrol`: API Priority and Fairness (flowcontrol.dispatcher.FlowControl), or None."""
    server = Server(registries, admission_mutate, admission_validate, bookmark_interval, metrics=metrics)
    cat = registries.catalogue
    # What is derived from the catalogue, rebuilt when it changes (custom resources come and go).
    derived = _Derived(cat, registries)

    async def authenticated(request: Request) -> UserInfo:
        user = await authenticate_request(authenticator, request.scope)   # records it for the audit log
        if user is None:
            # `anonymous_paths` (kube-public/cluster-info) are read without credentials, as
            # system:anonymous, whom authorization then judges (kubeadm's Role lets it)
            if request.method != "GET" or request.scope["path"] not in anonymous_paths:
                raise errors.unauthorized()
            user = request.scope[USER_KEY] = ANONYMOUS    # for the audit log
        return user

    async def version(request: Request):
        return raw_response(derived.current()[1].version)

    def discovery_response(request: Request, info: RequestInfo) -> Response:
        docs = derived.current()[1]
        accept = request.headers.get("accept")
        if info.api_prefix == "api" and not info.version:
            agg = discovery.wants_aggregated(accept)
            if agg:
                return raw_response(docs.aggregated(True, agg), discovery.aggregated_content_type(agg))
            return raw_response(docs.api)
        if info.api_prefix == "apis" and not info.group:
            agg = discovery.wants_aggregated(accept)
            if agg:
                return raw_response(docs.aggregated(False, agg), discovery.aggregated_content_type(agg))
            return raw_response(docs.apis)
        if info.api_prefix == "apis" and not info.version:
            body = docs.groups.get(info.group)
            if body is None:
                raise errors.StatusError(404, "NotFound", NOT_FOUND)
            return raw_response(body)
        body = docs.resource_lists.get((info.group, info.version))
        if body is None:
            raise errors.StatusError(404, "NotFound", NOT_FOUND)
        return raw_response(body)

    async def api(request: Request):
        response = await answer(request)
        headers = request.scope.get(PF_HEADERS_KEY)
        if headers is not None:   # the request's FlowSchema and priority level, on every answer
            response.raw_headers.extend(headers)
        return response

    async def answer(request: Request):
        held = None
        try:
            user = await authenticated(request)
            query = request.query_params
            info = parse_request_info(request.method, request.scope["path"], query)
            request.scope[INFO_KEY] = info   # what the metrics middleware labels the request with
            if flowcontrol is not None:   # after authentication (and impersonation), before authorization
                held = await flowcontrol.admit(request.scope, user, info)
            if not info.is_resource_request:
                if request.method not in ("GET", "HEAD"):
                    raise errors.method_not_allowed()
                return discovery_response(request, info)
            allowed, reason = await authorizer.authorize(user, info)
            request.scope[DECISION_KEY] = ("allow" if allowed else "forbid", reason)
            if not allowed:
                raise _forbidden(user, info, reason)
            resource, store = derived.current()[0].get((info.group, info.version, info.resource), (None, None))
            if resource is None:
                # counted without the path's names: unknown resources must not grow the metrics
                request.scope[INFO_KEY] = RequestInfo(path="", verb=info.verb)
                raise errors.StatusError(404, "NotFound", NOT_FOUND)
            if info.namespace and not resource.namespaced and info.resource != "namespaces":
                raise errors.StatusError(404, "NotFound", NOT_FOUND)
            rc = RequestContext(request, query, info, user, resource, store, server)
            if info.subresource:
                sub = resource.subresource(info.subresource)
                handler = _SUB_VERBS.get(info.verb)
                if sub is None:
                    raise errors.StatusError(404, "NotFound", NOT_FOUND)
                if handler is None or info.verb not in sub.verbs:
                    raise errors.method_not_allowed()
                return await handler(rc)
            handler = _VERBS.get(info.verb)
            if handler is None or info.verb not in resource.verbs:
                raise errors.method_not_allowed()
            if resource.namespaced and not info.namespace and info.verb not in ("list", "watch", "create"):
                raise errors.StatusError(404, "NotFound", NOT_FOUND)
            return await handler(rc)
        except errors.StatusError as e:
            return status_response(e)
        except ClientDisconnect:
            # The client went away before its body was read (it stopped, or the server is
            # stopping): nobody will read an answer, and it is no bug of ours to log.
            log.debug("client gone before its body was read: %s %s", request.method, request.url.path)
            return status_response(errors.bad_request("the client closed the request before its body was read"))
        except Exception as e:  # a bug: still a Status, never a bare 500 page
            log.exception("request failed: %s %s", request.method, request.url.path)
            return status_response(errors.internal_error(str(e)))
        finally:
            if held is not None:
                held.release()

    async def not_found(request: Request):
        return PlainTextResponse("404 page not found\n", status_code=404)

    def forbidden_path(user: UserInfo, reason: str) -> errors.StatusError:
        msg = f'forbidden: User "{user.name}" cannot get path "/metrics"' + (f": {reason}" if reason else "")
        return errors.forbidden(msg, name="", group="", kind="")

    def authorized_path(route: Route) -> Route:
        """A non-resource route served only to authenticated users allowed its path
        (OpenAPI: system:discovery grants it to every authenticated user, as upstream)."""
        async def endpoint(request: Request):
            try:
                user = await authenticated(request)
                path = request.url.path
                allowed, reason = await authorizer.authorize(user, parse_request_info("GET", path, {}))
                request.scope[DECISION_KEY] = ("allow" if allowed else "forbid", reason)
                if not allowed:
                    raise errors.forbidden(f'forbidden: User "{user.name}" cannot get path "{path}"'
                                           + (f": {reason}" if reason else ""), name="", group="", kind="")
            except errors.StatusError as e:
                return status_response(e)
            return await route.endpoint(request)
        return Route(route.path, endpoint, methods=sorted(route.methods or ("GET",)))

    health = health_routes(registries.storage)
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    # Routes are tried in order: the specific extra ones (node proxies under
    # /api/v1/...) first, then the catch-all API routes, which carry almost all traffic
    # (fast_route: those are tried first for the paths no extra route could match).
    routes = [
        *api_first(extra_routes or [], [Route("/api/{rest:path}", api, methods=methods),
                                        Route("/apis/{rest:path}", api, methods=methods)]),
        Route("/api", api, methods=methods),
        Route("/apis", api, methods=methods),
        Route("/version", version, methods=["GET"]),
        Route("/version/", version, methods=["GET"]),
        *[Route(p, health, methods=["GET"]) for p in ("/healthz", "/livez", "/readyz")],
        *[Route(p + "/{check}", health, methods=["GET"]) for p in ("/healthz", "/livez", "/readyz")],
        *[authorized_path(r) for r in openapi_routes()],
        *page_routes(),   # /ui/: the cluster page (static; its data comes through the API)
    ]
    middleware = [Middleware(RefuseBadCredentials, authenticator=authenticator, headers_of=_headers)]
    if audit is not None:   # outside authentication, so that refused credentials are audited too
        middleware.insert(0, Middleware(AuditMiddleware, policy=audit[0], log=audit[1]))
    if metrics is not None:
        routes.append(Route("/metrics", metrics_endpoint(metrics, authenticated, authorizer, forbidden_path,
                                                         status_response), methods=["GET"]))
        middleware.insert(0, Middleware(MetricsMiddleware, metrics=metrics))
    return Starlette(routes=routes, middleware=middleware)
