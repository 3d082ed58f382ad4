"""The catch-all API routes tried first, unless a route listed before them could match.

Starlette tries routes in order, one regular expression each. The node-proxy and OIDC
routes come before `/api/{rest:path}` (they are more specific), so every API request
paid for ten failed matches first: about 4% of a GET's CPU. Here the catch-all routes
are put first, each refusing a path that any of the earlier routes' patterns matches
(one combined expression); such a path falls through to the routes in their original
order, so which route serves which request does not change.
"""
from __future__ import annotations

import re

from starlette.routing import BaseRoute, Match, Route, get_route_path

_GROUP_NAME = re.compile(r"\(\?P<\w+>")


def _combined(routes: list[BaseRoute]) -> re.Pattern | None:
    patterns = [_GROUP_NAME.sub("(?:", r.path_regex.pattern) for r in routes if isinstance(r, Route)]
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


class UnshadowedRoute(Route):
    """A Route that matches no HTTP path any of `before` matches (their path patterns;
    WebSocket routes never match an HTTP request)."""

    def __init__(self, path: str, endpoint, *, methods: list[str], before: list[BaseRoute]):
        super().__init__(path, endpoint, methods=methods)
        self._shadowed = _combined(before)

    def matches(self, scope):
        if self._shadowed is not None and scope["type"] == "http" and self._shadowed.match(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


def api_first(before: list[BaseRoute], api_routes: list[Route]) -> list[BaseRoute]:
    """Routes equivalent to [*before, *api_routes], the API routes tried first."""
    if not before:
        return list(api_routes)
    fast = [UnshadowedRoute(r.path, r.endpoint, methods=sorted(r.methods or ()), before=before)
            for r in api_routes]
    return [*fast, *before, *api_routes]
