"""Byte pipes a SPDY session runs over: the bare connection after an HTTP/1.1
upgrade (the rawupgrade convention, kubectl before 1.30), or WebSocket binary
messages (kubectl 1.31+ port-forward tunnels SPDY in them).

  await recv()     the next bytes the peer sent, or None once it is gone
  await write(b)   send bytes
  await close()    end the connection from our side
"""
from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect


class RawUpgraded:
    """The ASGI raw-upgrade channel: receive/send of a request answered with 101."""

    def __init__(self, receive, send):
        self._receive, self._send = receive, send
        self.closed = False

    async def recv(self) -> bytes | None:
        while not self.closed:
            msg = await self._receive()
            if msg["type"] == "http.disconnect":
                self.closed = True
                return None
            if msg.get("body"):
                return msg["body"]
        return None

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("the client closed the connection")
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


class WebSocketBytes:
    def __init__(self, ws: WebSocket):
        self.ws = ws

    async def recv(self) -> bytes | None:
        while True:
            try:
                msg = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return None
            if msg["type"] == "websocket.disconnect":
                return None
            if msg.get("bytes"):
                return msg["bytes"]

    async def write(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def close(self) -> None:
        try:
            await self.ws.close(1000)
        except RuntimeError:
            pass
