"""Serve health checks while the server cannot yet reach its storage.

An API server started before etcd answers must not crash: it listens at once,
answers /livez and /readyz with 500 (`[-]etcd failed: reason withheld`,
`[-]poststarthook/bootstrap-controller failed`), every API request with a 503
Status, and keeps retrying the bootstrap (default namespaces, the kubernetes
Service, RBAC policy) until it succeeds; then the real app takes over.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from starlette.requests import Request

from asgilifespan import answer_lifespan

from apiserver.http.health import health_routes
from apiserver.http.responses import status_response
from apiserver.machinery import errors

log = logging.getLogger("apiserver")

BOOTSTRAP_CHECK = "poststarthook/bootstrap-controller"
RETRY_MAX_S = 2.0


class StartupGate:
    """An ASGI app: the real one once `open(app)` is called, health-only before."""

    def __init__(self, store):
        self.app = None

        async def bootstrapped() -> bool:
            return self.app is not None

        self._health = health_routes(store, {BOOTSTRAP_CHECK: bootstrapped})

    def open(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":   # the real (Starlette) app has no lifespan work of its own
            return await answer_lifespan(receive, send)
        if self.app is not None:
            return await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path.split("/")[1:2] and path.split("/")[1] in ("healthz", "livez", "readyz"):
            response = await self._health(Request(scope, receive))
        else:
            response = status_response(errors.service_unavailable(
                "the server is starting: its storage is not reachable yet"))
        await response(scope, receive, send)


async def build_until_ready(build: Callable[[], Awaitable], stopping: asyncio.Event):
    """Run build() until it succeeds, backing off up to RETRY_MAX_S between tries.
    Returns None if the server is asked to stop first. Only storage being away is
    retried (a 503 Status from the registry, or the store's own errors): bad flags
    and bugs still end the process with their message."""
    from apiserver.storage.interface import StoreError

    delay = 0.1
    while not stopping.is_set():
        try:
            return await build()
        except (errors.StatusError, StoreError) as e:
            if isinstance(e, errors.StatusError) and e.code not in (503, 504, 500):
                raise
            log.warning("storage not ready, retrying bootstrap: %s", e)
        try:
            await asyncio.wait_for(stopping.wait(), delay)
        except asyncio.TimeoutError:
            pass
        delay = min(delay * 2, RETRY_MAX_S)
    return None
