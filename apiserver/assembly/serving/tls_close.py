"""At shutdown, a TLS connection closes without waiting on a silent peer.

asyncio closes a TLS transport by sending close_notify and then waiting for the
peer's, for up to 30 s (its SSL shutdown timeout). A client that keeps an idle
connection in a pool (the official Python client, urllib3) reads nothing, so it
never answers: on SIGTERM hypercorn closed such a connection and then waited on
it, and the API server took 30 s to exit whatever --shutdown-timeout said (its
supervisor or test harness killed it first). Go's server sends close_notify and
closes the socket without waiting; here, once the server is terminating, a
connection whose close is not done within TERMINATING_CLOSE_WAIT_S is aborted.
Outside shutdown nothing changes: a close still flushes what is buffered.

Applied once, at server start.
"""
from __future__ import annotations

import asyncio
import contextlib

TERMINATING_CLOSE_WAIT_S = 0.5


async def _bounded_wait_closed(server) -> None:
    """The server is stopping: give the peer a moment to answer close_notify, then drop it."""
    writer = server.writer
    try:
        await asyncio.wait_for(asyncio.shield(writer.wait_closed()), TERMINATING_CLOSE_WAIT_S)
    except (asyncio.TimeoutError, TimeoutError):
        writer.transport.abort()
    except (ConnectionError, RuntimeError, OSError):
        pass


def install() -> None:
    from hypercorn.asyncio.tcp_server import TCPServer

    original_close = TCPServer._close
    if getattr(original_close, "pocketkube_tls_close", False):
        return
    original_initiate = TCPServer._initiate_server_close

    async def close(self) -> None:
        if self.context.terminated.is_set():
            with contextlib.suppress(NotImplementedError, OSError, RuntimeError):
                self.writer.close()
            await _bounded_wait_closed(self)
        await original_close(self)

    async def initiate_server_close(self) -> None:
        # The idle-connection path: at shutdown hypercorn closes idle connections here and
        # leaves the read loop to notice; a peer that never answers would hold it open.
        await original_initiate(self)
        if self.context.terminated.is_set():
            await _bounded_wait_closed(self)

    close.pocketkube_tls_close = True
    TCPServer._close = close
    TCPServer._initiate_server_close = initiate_server_close
