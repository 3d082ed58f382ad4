"""An HTTP/1.1 answer sent before the request body was read keeps the connection.

hypercorn recycles a connection for the next request only when the last answer is
out and the request was received whole; otherwise it closes it. An answer decided
from the headers alone (401, 403, 404, 413...) is often written before the client
has finished sending its body, and the connection is then closed although the
answer did not say `Connection: close`: a client that reuses it (httpx, urllib3,
Go) fails its next request with "Server disconnected without sending a response".

Go's net/http, which kube-apiserver serves with, reads and drops up to 256 KiB of
a body the handler left unread, so that the connection stays usable, and says
`Connection: close` on an answer after which it will not. The same here, in
hypercorn's HTTP/1.1 protocol (applied once, at server start):

  - an answer that starts while more than DISCARD_LIMIT bytes of the declared body
    are still to come says `Connection: close`, and the connection closes after it (as
    does the answer refusing a WebSocket upgrade: hypercorn never reuses that connection);
  - otherwise, once the answer is out, the rest of the body is read and dropped as
    it arrives (with what was queued for the app and not read) (the connection counts as idle meanwhile, so a client that never
    sends it meets the idle timeout), then the next request is served on it.
"""
from __future__ import annotations

DISCARD_LIMIT = 256 * 1024   # Go's maxPostHandlerReadBytes
_MARK = "pocketkube_unread_body"


def _left_to_read(connection) -> int | None:
    """Bytes of the request body h11 has still to take in, if it knows (a
    Content-Length body); None for a chunked one."""
    return getattr(getattr(connection, "_reader", None), "_remaining", None)


def _drop_queued_body(stream) -> None:
    """The answer is out: body chunks queued for the app and never read are dropped.
    The queue is bounded (hypercorn's max_app_queue_size), and a full one would hold
    both the read loop and the stream's end (its `http.disconnect`) for ever."""
    import asyncio
    queue = getattr(getattr(stream, "app_put", None), "__self__", None)
    while isinstance(queue, asyncio.Queue) and not queue.empty():
        queue.get_nowait()


def install() -> None:
    import dataclasses

    import h11
    from hypercorn.events import Closed, Updated
    from hypercorn.protocol.events import Response
    from hypercorn.protocol.h11 import H11Protocol, H11WSConnection

    if getattr(H11Protocol._maybe_recycle, _MARK, False):
        return
    maybe_recycle, handle_events, stream_send = (H11Protocol._maybe_recycle, H11Protocol._handle_events,
                                                 H11Protocol.stream_send)

    def mid_body(self) -> bool:
        conn = self.connection
        return isinstance(conn, h11.Connection) and conn.their_state is h11.SEND_BODY

    async def send_response(self, event):
        if isinstance(event, Response) and event.status_code >= 200:
            left = _left_to_read(self.connection) if mid_body(self) else None
            # a refused WebSocket upgrade: hypercorn closes the connection after the answer
            refused_upgrade = isinstance(self.connection, H11WSConnection)
            if refused_upgrade or (left is not None and left > DISCARD_LIMIT):
                event = dataclasses.replace(event, headers=[*event.headers, (b"connection", b"close")])
        await stream_send(self, event)

    async def recycle(self):
        if mid_body(self):
            _drop_queued_body(self.stream)
        if self.context.terminated.is_set() or not mid_body(self) or self.connection.our_state is not h11.DONE:
            return await maybe_recycle(self)
        await self._close_stream()
        self.pocketkube_discarding = DISCARD_LIMIT
        await self.can_read.set()
        await self.send(Updated(idle=True))
        await discard(self)

    async def discard(self) -> bool:
        """Drop what has come of the unread body; True once it is all in and the
        connection has moved on to the next request."""
        while True:
            try:
                event = self.connection.next_event()
            except h11.RemoteProtocolError:
                event = None
            if event is h11.NEED_DATA:
                return False
            if isinstance(event, h11.Data):
                self.pocketkube_discarding -= len(event.data)
                if self.pocketkube_discarding >= 0:
                    continue
            self.pocketkube_discarding = None
            if isinstance(event, h11.EndOfMessage):
                await maybe_recycle(self)   # both sides done: the next cycle starts
                return True
            await self.send(Closed())       # too much, a broken body, or the peer gone
            return False

    async def handle(self):
        if getattr(self, "pocketkube_discarding", None) is not None and not await discard(self):
            return
        await handle_events(self)

    for f in (send_response, recycle, handle):
        setattr(f, _MARK, True)
    H11Protocol.stream_send, H11Protocol._maybe_recycle, H11Protocol._handle_events = send_response, recycle, handle
