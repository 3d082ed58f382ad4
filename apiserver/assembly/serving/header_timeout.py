"""HTTP/1.1 request headers must arrive whole within a deadline (Go's ReadHeaderTimeout).

hypercorn has a per-read timeout only: a client sending its headers a byte a second
("slowloris") never trips it and holds the connection for as long as it likes. Here
the first byte of a request starts a timer; if the request's headers are not complete
when it fires, the connection is closed. kube-apiserver uses 32 s. HTTP/2 streams are
bounded by the idle timeout and the stream limit instead, as in Go.

The timeout is read from the hypercorn Config's `request_header_timeout` attribute
(None: no timeout). Applied once, at server start.
"""
from __future__ import annotations

import asyncio


def install() -> None:
    from hypercorn.events import Closed, RawData
    from hypercorn.protocol.h11 import H11Protocol

    original_handle = H11Protocol.handle
    original_create_stream = H11Protocol._create_stream
    if getattr(original_handle, "pocketkube_header_timeout", False):
        return

    def expire(protocol: H11Protocol) -> None:
        protocol.pocketkube_header_timer = None
        protocol.pocketkube_close_task = asyncio.ensure_future(protocol.send(Closed()))

    def stop_timer(protocol: H11Protocol) -> None:
        timer = getattr(protocol, "pocketkube_header_timer", None)
        if timer is not None:
            timer.cancel()
            protocol.pocketkube_header_timer = None

    async def handle(self, event):
        timeout = getattr(self.config, "request_header_timeout", None)
        if isinstance(event, Closed):
            stop_timer(self)
        elif (timeout and isinstance(event, RawData) and event.data and self.stream is None
              and getattr(self, "pocketkube_header_timer", None) is None):
            # The first bytes of a request: its headers must be complete in `timeout` seconds.
            self.pocketkube_header_timer = asyncio.get_running_loop().call_later(timeout, expire, self)
        await original_handle(self, event)

    async def create_stream(self, request):
        stop_timer(self)  # the headers are complete
        await original_create_stream(self, request)

    handle.pocketkube_header_timeout = True
    H11Protocol.handle = handle
    H11Protocol._create_stream = create_stream
