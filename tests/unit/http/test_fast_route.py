"""fast_route.api_first: the API routes tried first still leave every path to the route
the original order gave it (the node-proxy routes shadow parts of /api/...)."""
from __future__ import annotations

import pytest
from starlette.routing import Match, Route, WebSocketRoute

from apiserver.http.fast_route import api_first


def _endpoint(name):
    async def endpoint(request):   # never called: only matching is looked at
        raise AssertionError(name)
    endpoint.__name__ = name
    return endpoint


async def _ws(websocket):
    raise AssertionError("ws")


BASE = "/api/v1/namespaces/{namespace}/pods/{name}"
SPECIAL = [
    Route(BASE + "/log", _endpoint("log"), methods=["GET"]),
    WebSocketRoute(BASE + "/{sub:str}", _ws),
    Route(BASE + "/exec", _endpoint("exec"), methods=["POST", "GET"]),
    Route("/api/v1/nodes/{name}/proxy", _endpoint("nodeproxy"), methods=["GET", "POST"]),
    Route("/api/v1/nodes/{name}/proxy/{path:path}", _endpoint("nodeproxy"), methods=["GET", "POST"]),
    Route("/.well-known/openid-configuration", _endpoint("oidc"), methods=["GET"]),
]
API = [Route("/api/{rest:path}", _endpoint("api"), methods=["GET", "POST", "PUT", "DELETE"]),
       Route("/apis/{rest:path}", _endpoint("apis"), methods=["GET", "POST", "PUT", "DELETE"])]


def chosen(routes, path: str, method: str = "GET", kind: str = "http"):
    """The endpoint name Starlette's Router would pick (first FULL, else first PARTIAL)."""
    scope = {"type": kind, "path": path, "method": method, "root_path": ""}
    partial = None
    for r in routes:
        match, _ = r.matches(scope)
        if match is Match.FULL:
            return r.endpoint.__name__
        if match is Match.PARTIAL and partial is None:
            partial = r.endpoint.__name__ + " (405)"
    return partial


@pytest.mark.parametrize("path,method,kind", [
    ("/api/v1/namespaces/a/pods/b", "GET", "http"),
    ("/api/v1/namespaces/a/pods/b/log", "GET", "http"),
    ("/api/v1/namespaces/a/pods/b/log", "PUT", "http"),        # the log route's 405, as before
    ("/api/v1/namespaces/a/pods/b/exec", "POST", "http"),
    ("/api/v1/namespaces/a/pods/b/exec", "GET", "websocket"),
    ("/api/v1/namespaces/a/pods/b/status", "GET", "http"),
    ("/api/v1/nodes/n/proxy", "GET", "http"),
    ("/api/v1/nodes/n/proxy/metrics/cadvisor", "DELETE", "http"),
    ("/api/v1/nodes/n", "GET", "http"),
    ("/apis/apps/v1/deployments", "GET", "http"),
    ("/.well-known/openid-configuration", "GET", "http"),
    ("/api/v1/pods", "PATCH", "http"),                          # the API route's 405
])
def test_same_route_as_the_original_order(path, method, kind):
    original = [*SPECIAL, *API]
    fast = api_first(SPECIAL, API)
    assert chosen(fast, path, method, kind) == chosen(original, path, method, kind)


@pytest.mark.parametrize("path", ["/api/v1/namespaces/a/pods/b", "/api/v1/nodes/n", "/apis/apps/v1/deployments"])
def test_plain_api_paths_match_before_the_extra_routes(path):
    fast = api_first(SPECIAL, API)
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    assert Match.FULL in (fast[0].matches(scope)[0], fast[1].matches(scope)[0])


def test_no_extra_routes_leaves_the_api_routes_alone():
    assert api_first([], API) == API
