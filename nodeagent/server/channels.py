"""The channel view of an exec or attach stream, whatever carries it.

serve_process (streams.py) speaks in channels, as the kubelet does: it sends
(STDOUT | STDERR | ERROR, bytes) and receives (STDIN | RESIZE | CLOSE, bytes).
A transport maps them onto its wire: WebSocketChannels onto channel.k8s.io
WebSocket messages (a channel byte, then the payload), spdy_exec.SpdyChannels
onto SPDY streams (one stream per channel). `receive()` raises Disconnected when
the client has gone.
"""
from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


class Disconnected(Exception):
    """The client went away (or the stream was reset) before the command ended."""


class WebSocketChannels:
    def __init__(self, ws: WebSocket):
        self.ws = ws

    async def send(self, ch: int, data: bytes) -> None:
        await self.ws.send_bytes(bytes([ch]) + data)

    async def receive(self) -> tuple[int, bytes]:
        while True:
            try:
                msg = await self.ws.receive()
            except WebSocketDisconnect:
                raise Disconnected() from None
            if msg["type"] == "websocket.disconnect":
                raise Disconnected()
            data = msg.get("bytes")
            if data is None and msg.get("text") is not None:
                # The kubelet reads text and binary messages alike (channel byte first):
                # the official Python client's write_stdin(str) sends text frames.
                data = msg["text"].encode("utf-8")
            if data:
                return data[0], data[1:]

    async def close(self) -> None:
        await self.ws.close(1000)
