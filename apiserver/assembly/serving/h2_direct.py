"""A watch's events written straight into its HTTP/2 connection, as direct_body.py does for HTTP/1.1.

client-go and kubectl watch over HTTP/2, many watches multiplexed on one connection.
Through ASGI, each event for each stream went through Starlette, the middlewares,
hypercorn's stream buffer and its per-connection send task, then h2's send_data (a
frame object, two state machines, ~70 us), then a TLS write and a send of its own.
Here, while the stream has nothing queued in hypercorn and the flow-control windows
(the stream's and the connection's) take the event whole, the DATA frame is the 9-byte
header for this stream plus the event's bytes, appended to h2's own outbound buffer
with the windows charged as h2.send_data charges them. The connection's frames are
then sent in one TLS write when its buffer passes FLUSH_BYTES or at the end of the
fan-out (call_soon): a few writes per connection per event instead of one per stream.
Anything hypercorn sends on the connection meanwhile takes the same buffer, so the
order of frames is h2's. A write is refused (False; the event then goes through ASGI,
which waits for the reader's window) when the stream has bytes queued in hypercorn,
a window is too small, the connection is closing or its transport holds HIGH_WATER.
"""
from __future__ import annotations

import asyncio

from . import tls_write

# The frames of a connection are sent once this much has gathered (four TLS records).
FLUSH_BYTES = 64 * 1024
# A connection whose transport already holds this much takes no more events directly:
# they then wait, through ASGI, for the reader. One event to 1,000 streams is ~2.7 MB.
HIGH_WATER = 4 * 1024 * 1024


def open_writer(stream):
    """write(data) -> bool for this HTTP/2 stream, or None when it cannot be written directly."""
    import h2.connection
    import h2.stream
    from hypercorn.protocol.h2 import H2Protocol

    protocol = getattr(stream.send, "__self__", None)
    if not isinstance(protocol, H2Protocol) or protocol.closed:
        return None
    server = getattr(protocol.send, "__self__", None)
    conn = protocol.connection
    sid = stream.stream_id
    h2s = conn.streams.get(sid)
    if server is None or getattr(server, "writer", None) is None or getattr(server, "send_lock", None) is None \
            or h2s is None or not getattr(h2s.state_machine, "headers_sent", False) \
            or not isinstance(getattr(conn, "_data_to_send", None), bytearray):
        return None
    flusher = _Flusher.of(protocol, server)
    buffers = protocol.stream_buffers
    machine = h2s.state_machine
    sendable = (h2.stream.StreamState.OPEN, h2.stream.StreamState.HALF_CLOSED_REMOTE)
    conn_open = conn.state_machine
    server_open = h2.connection.ConnectionState.SERVER_OPEN
    transport = server.writer.transport
    header = bytes((0, 0)) + sid.to_bytes(4, "big")   # type DATA, no flags, the stream

    def write(data: bytes) -> bool:
        n = len(data)
        buffer = buffers.get(sid)
        if protocol.closed or buffer is None or buffer.buffer or buffer._complete \
                or machine.state not in sendable or conn_open.state is not server_open \
                or n > conn.max_outbound_frame_size or n > conn.outbound_flow_control_window \
                or n > h2s.outbound_flow_control_window \
                or transport.is_closing() or transport.get_write_buffer_size() > HIGH_WATER:
            return False
        if n:
            # What h2's send_data does for a DATA frame on an open stream, without its objects.
            h2s.outbound_flow_control_window -= n
            conn.outbound_flow_control_window -= n
            out = conn._data_to_send
            out += n.to_bytes(3, "big")
            out += header
            out += data
            flusher.soon(len(out))
        return True

    return write


class _Flusher:
    """Sends what h2 has buffered for one connection, in order with hypercorn's own sends."""

    __slots__ = ("conn", "server", "lock", "write", "scheduled", "waiting")

    @classmethod
    def of(cls, protocol, server) -> "_Flusher":
        f = getattr(protocol, "_pocketkube_flusher", None)
        if f is None:
            f = cls(protocol, server)
            protocol._pocketkube_flusher = f
        return f

    def __init__(self, protocol, server):
        self.conn = protocol.connection
        self.server = server
        self.lock: asyncio.Lock = server.send_lock
        self.write = tls_write.writer(server.writer.transport)
        self.scheduled = False
        self.waiting = False

    def soon(self, buffered: int) -> None:
        if buffered >= FLUSH_BYTES:
            self.flush()
        elif not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        lock = self.lock
        if lock.locked() or lock._waiters:
            # A sender holds (or is queued for) the connection, maybe with frames it took
            # from h2 before these: queue behind it, and take h2's buffer when our turn comes.
            if not self.waiting:
                self.waiting = True
                asyncio.get_running_loop().create_task(self._flush_in_turn())
            return
        data = self.conn.data_to_send()
        if data and not self.server.writer.transport.is_closing():
            self.write(data)

    async def _flush_in_turn(self) -> None:
        try:
            async with self.lock:
                self.waiting = False
                data = self.conn.data_to_send()
                writer = self.server.writer
                if data and not writer.transport.is_closing():
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, RuntimeError, OSError):
            pass   # the connection is gone: hypercorn's reader sees it and closes the streams
        finally:
            self.waiting = False
