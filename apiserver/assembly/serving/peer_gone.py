"""A client that is gone, or going, ends its connection quietly.

- An early answer (a 401 or 400 sent while the client is still sending its body)
  is followed by the server's close_notify; the client's next bytes make the TLS
  layer raise APPLICATION_DATA_AFTER_CLOSE_NOTIFY (an ssl.SSLError) from the
  write. hypercorn treats only ConnectionError there as "peer gone", so the error
  reached the app's `send` and was logged as a crash with a full traceback. Here a
  TLS error on write ends the connection like a reset does.
- An HTTP/2 connection closed for being idle now says so with GOAWAY first, as Go's
  server does, so a client that was about to reuse it opens a new one instead of
  finding it cut.

Applied once, at server start.
"""
from __future__ import annotations

import contextlib
import ssl


def install() -> None:
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.events import Closed
    from hypercorn.protocol.h2 import H2Protocol

    original_send = TCPServer.protocol_send
    if getattr(original_send, "pocketkube_peer_gone", False):
        return
    original_server_close = TCPServer._initiate_server_close

    async def protocol_send(self, event):
        try:
            await original_send(self, event)
        except ssl.SSLError:
            await self.protocol.handle(Closed())

    async def initiate_server_close(self):
        inner = getattr(self.protocol, "protocol", None)
        if isinstance(inner, H2Protocol) and not inner.closed:
            with contextlib.suppress(Exception):
                inner.connection.close_connection()
                await inner._flush()
        await original_server_close(self)

    protocol_send.pocketkube_peer_gone = True
    TCPServer.protocol_send = protocol_send
    TCPServer._initiate_server_close = initiate_server_close
