"""A streaming HTTP/1.1 response body written straight to its connection.

A watch event reaching 1,000 watchers went through ~15 awaited layers per watcher
(Starlette's StreamingResponse, the middlewares' send wrappers, hypercorn's
stream, h11, the stream writer's drain) before the one TLS write that matters:
most of the server's time per delivery. With this extension the app, once its
response has started, may write body pieces synchronously to the connection's
transport, chunk-framed as h11 would frame them (the framing of one piece is
made once for every connection that gets the same bytes object).

  scope["extensions"][EXTENSION]["open"]() -> write(data) -> bool | None

Over HTTP/2 the same `open()` gives h2_direct.py's writer (a DATA frame per event).
`open()` answers None when the response cannot be written this way (an upgraded connection, a body that is not chunked, headers not sent yet). `write`
answers False, writing nothing, when the connection is closing, an ordinary
send is in flight, or the transport already holds HIGH_WATER bytes: the app then
sends through ASGI as usual, which waits for the reader (flow control stays
hypercorn's). The end of the body always goes through ASGI, so h11 and
hypercorn finish the response and keep-alive as usual.
"""
from __future__ import annotations

import functools

from apiserver.http.handlers.watch import DIRECT_BODY as EXTENSION   # the key the watch handler reads

from . import h2_direct, tls_write

_MARK = "pocketkube_direct_body"

# The stream writer's own default high-water mark: past it an ordinary send would wait.
HIGH_WATER = 64 * 1024

# The last piece framed, by identity: one event's bytes go to every watcher in turn.
_last: tuple[object, bytes] = (None, b"")


def _framed(data: bytes) -> bytes:
    global _last
    piece, framed = _last
    if piece is data:
        return framed
    framed = b"%x\r\n%b\r\n" % (len(data), data)
    _last = (data, framed)
    return framed


def _open(stream):
    """The `open` of one request's stream: a writer, or None when it cannot write directly."""
    import h11
    from h11._writers import ChunkedWriter

    protocol = getattr(stream.send, "__self__", None)
    server = getattr(getattr(protocol, "send", None), "__self__", None)
    conn = getattr(protocol, "connection", None)
    if protocol is None or server is None or getattr(protocol, "raw_switched", False) \
            or getattr(protocol, "stream", None) is not stream or not isinstance(conn, h11.Connection):
        return None
    if conn.our_state is not h11.SEND_BODY or not isinstance(getattr(conn, "_writer", None), ChunkedWriter):
        return None
    writer = getattr(server, "writer", None)
    lock = getattr(server, "send_lock", None)
    if writer is None or lock is None:
        return None
    send = tls_write.writer(writer.transport, HIGH_WATER)

    def write(data: bytes) -> bool:
        if lock.locked():
            return False
        if data:
            return send(_framed(data))
        return not writer.transport.is_closing()

    return write


def install() -> None:
    from hypercorn.protocol.events import Request
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.h2 import H2Protocol
    from hypercorn.protocol.http_stream import HTTPStream

    if getattr(HTTPStream.handle, _MARK, False):
        return
    original = HTTPStream.handle

    async def handle(self, event):
        if isinstance(event, Request):
            protocol = getattr(self.send, "__self__", None)
            if isinstance(protocol, H11Protocol):
                self.app = _WithExtension(self.app, {"open": functools.partial(_open, self)})
            elif isinstance(protocol, H2Protocol):
                self.app = _WithExtension(self.app, {"open": functools.partial(h2_direct.open_writer, self)})
        await original(self, event)

    setattr(handle, _MARK, True)
    HTTPStream.handle = handle


class _WithExtension:
    """The app wrapper hypercorn calls, adding EXTENSION to the request's scope."""

    __slots__ = ("inner", "ext")

    def __init__(self, inner, ext):
        self.inner = inner
        self.ext = ext

    async def __call__(self, scope, *args, **kwargs):
        scope.setdefault("extensions", {})[EXTENSION] = self.ext
        return await self.inner(scope, *args, **kwargs)
