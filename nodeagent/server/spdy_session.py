"""The server side of a SPDY/3.1 connection, as the kubelet keeps one for exec,
attach and port-forward: the client opens every stream (SYN_STREAM with a
`streamtype` header), we reply to each, and data flows both ways on them.

Flow control (SPDY/3.1 section 2.6.8): we credit the client's window for every
byte we take (WINDOW_UPDATE), and we keep to the window the client gives us once
it shows it keeps windows itself (it sends a WINDOW_UPDATE or an initial window
size in SETTINGS). Go's spdystream, which every kubectl uses, sends neither and
reads without limit, so for it writes never wait.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from . import spdy

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 64 * 1024
SETTINGS_INITIAL_WINDOW_SIZE = 7
MAX_DATA = 32 * 1024       # bytes per DATA frame we write


@dataclass(eq=False)
class Stream:
    stream_id: int
    headers: dict[str, str]
    inbound: asyncio.Queue = field(default_factory=asyncio.Queue)  # bytes, then None at FIN
    send_window: int = DEFAULT_WINDOW
    window_open: asyncio.Event = field(default_factory=asyncio.Event)
    local_fin: bool = False
    reset: bool = False

    @property
    def kind(self) -> str:
        return self.headers.get("streamtype", "")


class SpdySession:
    def __init__(self, conn):
        self.conn = conn
        self.reader, self.writer = spdy.FrameReader(), spdy.FrameWriter()
        self.lock = asyncio.Lock()       # one frame at a time: header compression is ordered
        self.streams: dict[int, Stream] = {}
        self.closed = False
        self.peer_flow_control = False
        self.initial_window = DEFAULT_WINDOW
        self._accept: Callable[[dict[str, str]], bool] | None = None

    # ---- writing -----------------------------------------------------------------
    async def send(self, *frames: spdy.Frame) -> None:
        async with self.lock:
            if self.closed:
                raise ConnectionResetError("the SPDY connection is closed")
            await self.conn.write(b"".join(self.writer.encode(f) for f in frames))

    async def send_data(self, stream: Stream, data: bytes, fin: bool = False) -> None:
        """Write data on a stream, cut into frames, within its window when the peer keeps one."""
        if stream.reset or stream.local_fin:
            return
        view = memoryview(data)
        while view or fin:
            n = min(len(view), MAX_DATA)
            if n and self.peer_flow_control:
                while stream.send_window <= 0 and not stream.reset and not self.closed:
                    stream.window_open.clear()
                    await stream.window_open.wait()
                n = min(n, max(stream.send_window, 1))
            chunk, view = bytes(view[:n]), view[n:]
            last = fin and not view
            stream.send_window -= len(chunk)
            await self.send(spdy.DataFrame(stream.stream_id, chunk, spdy.FLAG_FIN if last else 0))
            if last:
                stream.local_fin = True
                return
            if not view:
                return

    async def finish(self, stream: Stream) -> None:
        await self.send_data(stream, b"", fin=True)

    def forget(self, stream: Stream) -> None:
        """A stream done with: frames still coming for it are dropped (a session that
        carries many, as port-forward's, does not keep them all)."""
        self.streams.pop(stream.stream_id, None)

    async def go_away(self) -> None:
        last = max(self.streams, default=0)
        try:
            await self.send(spdy.GoAway(last, spdy.GOAWAY_OK))
        except (ConnectionError, RuntimeError):
            pass

    async def close(self) -> None:
        if not self.closed:
            await self.go_away()
            self.closed = True
            await self.conn.close()
        self._wake_all()

    # ---- reading -----------------------------------------------------------------
    async def read(self, stream: Stream) -> bytes | None:
        """The next bytes the client sent on a stream (crediting its window), or None at
        its end: the client's FIN, a reset, or the connection gone."""
        data = await stream.inbound.get()
        if data is None:
            stream.inbound.put_nowait(None)     # every later read sees the end too
            return None
        if not self.closed and not stream.reset:
            try:
                await self.send(spdy.WindowUpdate(stream.stream_id, len(data)))
            except (ConnectionError, RuntimeError, OSError):
                pass
        return data

    async def run(self, on_stream: Callable[[Stream], Awaitable[None]],
                  accept: Callable[[dict[str, str]], bool] | None = None) -> None:
        """Read frames until the peer goes; `on_stream` is called for each new stream
        after we replied to it. `accept(headers)` False refuses a stream: RST_STREAM
        (PROTOCOL_ERROR) instead of a reply, and no `on_stream`."""
        self._accept = accept
        try:
            while not self.closed:
                data = await self.conn.recv()
                if data is None:
                    break
                try:
                    frames = self.reader.feed(data)
                except spdy.SpdyProtocolError as e:
                    log.info("bad SPDY from the client: %s", e)
                    await self.send(spdy.GoAway(0, spdy.GOAWAY_PROTOCOL_ERROR))
                    break
                for frame in frames:
                    if await self._handle(frame, on_stream) is False:
                        return
        except (ConnectionError, RuntimeError, OSError) as e:
            log.debug("SPDY connection ended: %r", e)
        finally:
            self.closed = True
            self._wake_all()

    def _wake_all(self) -> None:
        for s in self.streams.values():
            s.window_open.set()
            s.inbound.put_nowait(None)

    async def _handle(self, frame, on_stream) -> bool:
        if isinstance(frame, spdy.SynStream):
            if self._accept is not None and not self._accept(frame.headers):
                await self.send(spdy.RstStream(frame.stream_id, spdy.PROTOCOL_ERROR))
                return True
            s = Stream(frame.stream_id, frame.headers, send_window=self.initial_window)
            self.streams[s.stream_id] = s
            await self.send(spdy.SynReply(s.stream_id))
            if frame.fin:
                s.inbound.put_nowait(None)
            await on_stream(s)
        elif isinstance(frame, spdy.DataFrame):
            s = self.streams.get(frame.stream_id)
            if s is not None and not s.reset:
                if frame.data:
                    s.inbound.put_nowait(frame.data)   # the window is credited as read() takes it
                if frame.fin:
                    s.inbound.put_nowait(None)
        elif isinstance(frame, spdy.WindowUpdate):
            self.peer_flow_control = True
            s = self.streams.get(frame.stream_id)
            if s is not None:
                s.send_window += frame.delta
                s.window_open.set()
        elif isinstance(frame, spdy.Settings):
            for _flags, sid, value in frame.entries:
                if sid == SETTINGS_INITIAL_WINDOW_SIZE:
                    self.peer_flow_control = True
                    delta, self.initial_window = value - self.initial_window, value
                    for s in self.streams.values():
                        s.send_window += delta
                        s.window_open.set()
        elif isinstance(frame, spdy.RstStream):
            s = self.streams.get(frame.stream_id)
            if s is not None:
                s.reset = True
                s.window_open.set()
                s.inbound.put_nowait(None)
        elif isinstance(frame, spdy.Ping):
            await self.send(frame)   # the answer to a ping is the same ping
        elif isinstance(frame, spdy.GoAway):
            return False
        return True
