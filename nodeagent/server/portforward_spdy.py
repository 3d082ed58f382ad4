"""Port-forward over SPDY/3.1: on the bare connection after an HTTP/1.1 upgrade
(kubectl before 1.31, `portforward.k8s.io`), or tunnelled in WebSocket binary
messages (kubectl 1.31+, subprotocol `SPDY/3.1+portforward.k8s.io`): either way
a byte pipe (byteconn.py) carrying the SPDY connection's bytes, cut anywhere.
For each local connection kubectl opens two client streams with headers
`streamtype` (error | data), `port` and `requestid`; the error stream comes
first. We reply to every SYN_STREAM (kubectl waits for the reply), dial the
pod's port for each data stream, copy bytes both ways, and when the pod side
ends we close the data stream and then the error stream (kubectl waits for
the error stream's end before it forgets the connection). A failed dial is
written on the error stream.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import spdy
from .byteconn import WebSocketBytes

log = logging.getLogger(__name__)

SUBPROTOCOL = "SPDY/3.1+portforward.k8s.io"
# the API server's hop here names it by this token alias: its WebSocket client
# library accepts only RFC 7230 tokens, and "/" is not one (apiserver/http/nodeproxy.py)
SUBPROTOCOL_ALIAS = "spdy-3.1.portforward.k8s.io"
SUBPROTOCOLS = (SUBPROTOCOL, SUBPROTOCOL_ALIAS)
READ_CHUNK = 32 * 1024


class _DataStream:
    def __init__(self, stream_id: int, port: int, error_id: int | None) -> None:
        self.stream_id, self.port, self.error_id = stream_id, port, error_id
        self.inbound: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: kubectl sent FIN
        self.task: asyncio.Task | None = None
        self.reset = False  # kubectl sent RST_STREAM: the stream is gone, send nothing more on it


class SpdyPortForwardSession:
    """`conn`: the byte pipe the SPDY connection runs over (byteconn.py)."""

    def __init__(self, conn, pod_ip: str) -> None:
        self.conn, self.pod_ip = conn, pod_ip
        self.reader, self.writer = spdy.FrameReader(), spdy.FrameWriter()
        self.lock = asyncio.Lock()  # one frame at a time; header compression is ordered
        self.data: dict[int, _DataStream] = {}
        self.errors_by_request: dict[str, int] = {}
        self.closed = False

    async def send(self, *frames: spdy.Frame) -> None:
        async with self.lock:
            if self.closed:
                return
            await self.conn.write(b"".join(self.writer.encode(f) for f in frames))

    async def run(self) -> None:
        try:
            while True:
                data = await self.conn.recv()
                if data is None:
                    break
                try:
                    frames = self.reader.feed(data)
                except spdy.SpdyProtocolError as e:
                    log.info("port-forward: bad SPDY from client: %s", e)
                    await self.send(spdy.GoAway(0, spdy.GOAWAY_PROTOCOL_ERROR))
                    break
                for frame in frames:
                    if await self.handle(frame) is False:
                        return
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            self.closed = True
            for s in self.data.values():
                if s.task is not None:
                    s.task.cancel()

    async def handle(self, frame: spdy.Frame) -> bool:
        if isinstance(frame, spdy.SynStream):
            await self.open_stream(frame)
        elif isinstance(frame, spdy.DataFrame):
            s = self.data.get(frame.stream_id)
            if s is not None:
                if frame.data:
                    s.inbound.put_nowait(frame.data)
                if frame.fin:
                    s.inbound.put_nowait(None)
        elif isinstance(frame, spdy.RstStream):
            s = self.data.pop(frame.stream_id, None)
            if s is not None and s.task is not None:
                s.reset = True
                s.task.cancel()
        elif isinstance(frame, spdy.Ping):
            await self.send(frame)  # the answer to a ping is the same ping
        elif isinstance(frame, spdy.GoAway):
            return False
        return True  # SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do

    async def open_stream(self, syn: spdy.SynStream) -> None:
        h = syn.headers
        kind, request = h.get("streamtype", ""), h.get("requestid", "")
        try:
            port = int(h.get("port", ""))
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            await self.send(spdy.RstStream(syn.stream_id, spdy.PROTOCOL_ERROR))
            return
        if kind == "error":
            self.errors_by_request[request] = syn.stream_id
            await self.send(spdy.SynReply(syn.stream_id))
        elif kind == "data":
            s = _DataStream(syn.stream_id, port, self.errors_by_request.pop(request, None))
            self.data[syn.stream_id] = s
            await self.send(spdy.SynReply(syn.stream_id))
            s.task = asyncio.ensure_future(self.forward(s))
        else:
            await self.send(spdy.RstStream(syn.stream_id, spdy.PROTOCOL_ERROR))

    async def forward(self, s: _DataStream) -> None:
        """One local connection: dial the pod, copy both ways, then close our
        halves of the data and error streams."""
        conn_writer = None
        try:
            try:
                conn_reader, conn_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.pod_ip, s.port), 5)
            except (OSError, asyncio.TimeoutError) as e:
                msg = f"error forwarding port {s.port} to pod: {e or 'timed out'}"
                if s.error_id is not None:
                    await self.send(spdy.DataFrame(s.error_id, msg.encode()))
                return

            async def upstream() -> None:  # kubectl -> pod
                while (chunk := await s.inbound.get()) is not None:
                    conn_writer.write(chunk)
                    await conn_writer.drain()
                if conn_writer.can_write_eof():
                    conn_writer.write_eof()

            up = asyncio.ensure_future(upstream())
            try:
                while chunk := await conn_reader.read(READ_CHUNK):
                    await self.send(spdy.DataFrame(s.stream_id, chunk))
            finally:
                up.cancel()
        except (OSError, RuntimeError) as e:
            log.info("port-forward to %s:%s ended: %s", self.pod_ip, s.port, e)
        finally:
            if conn_writer is not None:
                conn_writer.close()
            fins = [] if s.reset else [spdy.DataFrame(s.stream_id, b"", spdy.FLAG_FIN)]
            if s.error_id is not None:
                fins.append(spdy.DataFrame(s.error_id, b"", spdy.FLAG_FIN))
            try:
                if fins:
                    await self.send(*fins)
            except (OSError, RuntimeError, WebSocketDisconnect):
                pass
            self.data.pop(s.stream_id, None)


async def serve_spdy_portforward(ws: WebSocket, pod_ip: str, subprotocol: str = SUBPROTOCOL) -> None:
    """Accept with the name the client offered (SUBPROTOCOL or its alias), then run."""
    await ws.accept(subprotocol=subprotocol)
    await SpdyPortForwardSession(WebSocketBytes(ws), pod_ip).run()
