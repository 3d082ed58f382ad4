"""Answer an ASGI server's lifespan messages for an app with no start-up or shutdown work.

Used by the API server's start-up gate and by the node agent's kubelet API, both served
by hypercorn with Starlette apps underneath. Letting Starlette's router answer instead
has a cost: a client that keeps an idle TLS connection open when the server stops
outlasts hypercorn's graceful timeout; hypercorn 0.18 then leaves its lifespan task
waiting, asyncio.run cancels it at exit, and Starlette reports that cancellation as a
LifespanFailureError traceback. Answered here, it is a plain cancellation.

Imports nothing of ours, so both the API server and its clients may use it.
"""
from __future__ import annotations


async def answer_lifespan(receive, send) -> None:
    """Complete start-up at once, and shutdown when asked; returns after shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class OwnLifespan:
    """An ASGI app that answers lifespan itself and hands everything else to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await answer_lifespan(receive, send)
        return await self.app(scope, receive, send)
