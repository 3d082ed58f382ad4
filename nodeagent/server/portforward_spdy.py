"""Port-forward over SPDY/3.1: on the bare connection after an HTTP/1.1 upgrade
(kubectl before 1.31, `portforward.k8s.io`), or tunnelled in WebSocket binary
messages (kubectl 1.31+, subprotocol `SPDY/3.1+portforward.k8s.io`): either way
a byte pipe (byteconn.py) carrying a SPDY session (spdy_session.py).

For each local connection kubectl opens two client streams with headers
`streamtype` (error | data), `port` and `requestid`; the error stream comes
first. A stream with another type or a bad port is refused (RST_STREAM). For each
data stream we dial the pod's port and copy bytes both ways; when the pod side
ends we close the data stream and then the error stream (kubectl waits for the
error stream's end before it forgets the connection). A failed dial is written on
the error stream. A stream kubectl resets ends its pod connection at once.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket

from .byteconn import WebSocketBytes
from .spdy_session import SpdySession, Stream

log = logging.getLogger(__name__)

SUBPROTOCOL = "SPDY/3.1+portforward.k8s.io"
# the API server's hop here names it by this token alias: its WebSocket client
# library accepts only RFC 7230 tokens, and "/" is not one (apiserver/http/nodeproxy.py)
SUBPROTOCOL_ALIAS = "spdy-3.1.portforward.k8s.io"
SUBPROTOCOLS = (SUBPROTOCOL, SUBPROTOCOL_ALIAS)
READ_CHUNK = 32 * 1024
DIAL_TIMEOUT_S = 5.0


def acceptable(headers: dict[str, str]) -> bool:
    """A port-forward stream: an error or data stream for a port number (pure)."""
    try:
        port = int(headers.get("port", ""))
    except ValueError:
        return False
    return headers.get("streamtype") in ("error", "data") and 0 < port < 65536


class SpdyPortForwardSession:
    """`conn`: the byte pipe the SPDY connection runs over (byteconn.py)."""

    def __init__(self, conn, pod_ip: str) -> None:
        self.session, self.pod_ip = SpdySession(conn), pod_ip
        self.errors_by_request: dict[str, Stream] = {}
        self.forwards: set[asyncio.Task] = set()

    async def run(self) -> None:
        try:
            await self.session.run(self.on_stream, accept=acceptable)
        finally:
            for t in self.forwards:
                t.cancel()
            await asyncio.gather(*self.forwards, return_exceptions=True)

    async def on_stream(self, s: Stream) -> None:
        request = s.headers.get("requestid", "")
        if s.kind == "error":
            self.errors_by_request[request] = s
            return
        task = asyncio.ensure_future(self.forward(s, self.errors_by_request.pop(request, None)))
        self.forwards.add(task)
        task.add_done_callback(self.forwards.discard)

    async def forward(self, s: Stream, error: Stream | None) -> None:
        """One local connection: dial the pod, copy both ways, then close our
        halves of the data and error streams."""
        port = int(s.headers["port"])
        conn_writer = None
        try:
            try:
                conn_reader, conn_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.pod_ip, port), DIAL_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError) as e:
                if error is not None:
                    await self.session.send_data(error, f"error forwarding port {port} to pod: "
                                                        f"{e or 'timed out'}".encode())
                return
            forward = asyncio.current_task()

            async def upstream() -> None:  # kubectl -> pod
                while (chunk := await self.session.read(s)) is not None:
                    conn_writer.write(chunk)
                    await conn_writer.drain()
                if s.reset:            # nothing more goes either way
                    forward.cancel()
                elif conn_writer.can_write_eof():
                    conn_writer.write_eof()

            up = asyncio.ensure_future(upstream())
            try:
                while chunk := await conn_reader.read(READ_CHUNK):
                    await self.session.send_data(s, chunk)
            finally:
                up.cancel()
        except (OSError, RuntimeError) as e:
            log.info("port-forward to %s:%s ended: %s", self.pod_ip, port, e)
        finally:
            if conn_writer is not None:
                conn_writer.close()
            try:
                await self.session.finish(s)           # nothing when it was reset
                if error is not None:
                    await self.session.finish(error)
            except (OSError, RuntimeError):
                pass
            for done in (s, error):
                if done is not None:
                    self.session.forget(done)


async def serve_spdy_portforward(ws: WebSocket, pod_ip: str, subprotocol: str = SUBPROTOCOL) -> None:
    """Accept with the name the client offered (SUBPROTOCOL or its alias), then run."""
    await ws.accept(subprotocol=subprotocol)
    await SpdyPortForwardSession(WebSocketBytes(ws), pod_ip).run()
