"""Many streams on one HTTP/2 connection, as client-go opens them, never fail the connection.

client-go multiplexes all of a process's requests and watches over one connection,
and kube-apiserver allows 1,000 concurrent streams on it. Two things in hypercorn
broke that:

- Its send scheduler (a `priority.PriorityTree`, capped at 1,000 entries) only drops a
  stream once the stream's response has been sent to its end. A stream the client
  resets first (a watch it cancels) stayed in the tree, and its output buffer in
  memory, for the connection's life: after enough cancelled watches the next request
  raised `TooManyStreamsError: Refusing to insert 1001 streams into priority tree`
  and the whole connection went down with every watch on it. The fix drops a reset
  stream's buffer and tree entry when the stream closes; h2 already bounds the
  streams that are open, so the tree itself gets no cap of its own.
- A client that opens a stream over the advertised limit made h2 raise a connection
  error (GOAWAY). Go's server refuses just that stream (RST_STREAM REFUSED_STREAM,
  which a client may retry): so does this.

Applied once, at server start.
"""
from __future__ import annotations

import contextlib

# h2 enforces the advertised stream limit; the scheduler's own cap must never be the
# tighter one (it counts streams whose last bytes are still queued, too).
SCHEDULER_MAX_STREAMS = 2**31 - 1


def install() -> None:
    import priority
    from hypercorn.protocol import h2 as hyper_h2

    protocol = hyper_h2.H2Protocol
    if getattr(protocol.__init__, "pocketkube_streams_fix", False):
        return
    original_init = protocol.__init__
    original_close_stream = protocol._close_stream
    original_send_data = protocol._send_data
    original_handle = protocol.handle

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.priority = priority.PriorityTree(maximum_streams=SCHEDULER_MAX_STREAMS)
        refuse_streams_over_limit(self.connection)

    async def close_stream(self, stream_id: int) -> None:
        await original_close_stream(self, stream_id)
        buffer = self.stream_buffers.get(stream_id)
        if buffer is not None and not buffer.complete:
            # Reset before its response was all queued: the sender will never reach its end.
            await buffer.close()
            del self.stream_buffers[stream_id]
            with contextlib.suppress(priority.MissingStreamError):
                self.priority.remove_stream(stream_id)

    async def send_data(self, stream_id: int) -> None:
        try:
            await original_send_data(self, stream_id)
        except KeyError:
            # The stream was reset (and dropped above) while its data was being written.
            with contextlib.suppress(priority.MissingStreamError):
                self.priority.remove_stream(stream_id)

    async def handle(self, event) -> None:
        await original_handle(self, event)
        if not self.closed:
            # Frames h2 queued with no event to act on (a refused stream's RST_STREAM) go out now.
            await self._flush()

    init.pocketkube_streams_fix = True
    protocol.__init__ = init
    protocol._close_stream = close_stream
    protocol._send_data = send_data
    protocol.handle = handle


def refuse_streams_over_limit(connection) -> None:
    """Make this server-side h2 connection answer a stream over its advertised limit with
    RST_STREAM(REFUSED_STREAM) instead of failing the whole connection."""
    from h2.connection import _decode_headers
    from h2.errors import ErrorCodes
    from h2.exceptions import TooManyStreamsError
    from h2.stream import StreamClosedBy
    from hyperframe.frame import HeadersFrame, RstStreamFrame

    receive_headers = connection._receive_headers_frame

    def receive_headers_frame(frame):
        try:
            return receive_headers(frame)
        except TooManyStreamsError:
            # Decode the header block all the same: HPACK state is shared by the connection.
            _decode_headers(connection.decoder, frame.data)
            connection.highest_inbound_stream_id = max(connection.highest_inbound_stream_id, frame.stream_id)
            # Later frames of this stream are then answered as for any reset stream.
            connection._closed_streams[frame.stream_id] = StreamClosedBy.SEND_RST_STREAM
            refusal = RstStreamFrame(frame.stream_id)
            refusal.error_code = ErrorCodes.REFUSED_STREAM
            return [refusal], []

    connection._frame_dispatch_table[HeadersFrame] = receive_headers_frame
