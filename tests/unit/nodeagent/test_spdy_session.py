"""The server side of a SPDY connection over an in-memory byte pipe: replies,
stream data both ways, window credits, and the peer's flow control kept once it
shows it keeps one (Go's spdystream never does, so then nothing waits)."""
from __future__ import annotations

import asyncio

from nodeagent.server import spdy
from nodeagent.server.spdy_exec import SpdyChannels, expected_streams, pick_protocol
from nodeagent.server.spdy_session import SpdySession


class Pipe:
    """What the client sends (queued) and what the session writes (collected)."""

    def __init__(self):
        self.inbound: asyncio.Queue = asyncio.Queue()
        self.out = bytearray()
        self.closed = False

    async def recv(self):
        return await self.inbound.get()

    async def write(self, data):
        self.out += data

    async def close(self):
        self.closed = True


class Client:
    def __init__(self, pipe: Pipe):
        self.pipe, self.writer, self.reader = pipe, spdy.FrameWriter(), spdy.FrameReader()

    def send(self, *frames):
        self.pipe.inbound.put_nowait(b"".join(self.writer.encode(f) for f in frames))

    def received(self):
        frames = self.reader.feed(bytes(self.pipe.out))
        self.pipe.out.clear()
        return frames


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)


async def test_streams_are_replied_and_carry_data_both_ways():
    pipe = Pipe()
    client, session, opened = Client(pipe), SpdySession(pipe), []

    async def on_stream(s):
        opened.append(s)
    runner = asyncio.ensure_future(session.run(on_stream))
    client.send(spdy.SynStream(1, {"streamtype": "error"}), spdy.SynStream(3, {"streamtype": "stdin"}),
                spdy.DataFrame(3, b"hello"), spdy.Ping(7))
    await settle()
    assert [s.kind for s in opened] == ["error", "stdin"]
    assert await session.read(opened[1]) == b"hello"
    await session.send_data(opened[0], b"x" * 70_000, fin=True)      # more than one frame, no window kept
    got = client.received()
    assert [type(f).__name__ for f in got[:2]] == ["SynReply", "SynReply"]
    assert spdy.Ping(7) in got
    assert spdy.WindowUpdate(3, 5) in got                              # what was read is credited
    data = [f for f in got if isinstance(f, spdy.DataFrame)]
    assert b"".join(f.data for f in data) == b"x" * 70_000 and data[-1].fin and len(data) == 3
    client.send(spdy.DataFrame(3, b"", spdy.FLAG_FIN))
    await settle()
    assert await session.read(opened[1]) is None
    pipe.inbound.put_nowait(None)                                     # the client goes away
    await runner
    assert session.closed


async def test_a_peer_that_keeps_windows_is_kept_to_them():
    pipe = Pipe()
    client, session, opened = Client(pipe), SpdySession(pipe), []

    async def on_stream(s):
        opened.append(s)
    runner = asyncio.ensure_future(session.run(on_stream))
    client.send(spdy.Settings([(0, 7, 10)]), spdy.SynStream(1, {"streamtype": "stdout"}))
    await settle()
    writing = asyncio.ensure_future(session.send_data(opened[0], b"y" * 25))
    await settle()
    assert not writing.done()
    assert b"".join(f.data for f in client.received() if isinstance(f, spdy.DataFrame)) == b"y" * 10
    client.send(spdy.WindowUpdate(1, 100))
    await settle()
    assert writing.done()
    assert b"".join(f.data for f in client.received() if isinstance(f, spdy.DataFrame)) == b"y" * 15
    pipe.inbound.put_nowait(None)
    await runner


async def test_exec_channels_map_streams_and_resize_messages():
    pipe = Pipe()
    client, session = Client(pipe), SpdySession(pipe)
    streams = {}

    async def on_stream(s):
        streams[s.kind] = s
    runner = asyncio.ensure_future(session.run(on_stream))
    client.send(*(spdy.SynStream(i, {"streamtype": k}) for i, k in
                  ((1, "error"), (3, "stdin"), (5, "stdout"), (7, "resize"))))
    await settle()
    ch = SpdyChannels(session, streams)
    client.send(spdy.DataFrame(7, b'{"Width":80,"Height":2'), spdy.DataFrame(7, b'4}{"Width":100,"Height":30}'),
                spdy.DataFrame(3, b"ls\n"), spdy.DataFrame(3, b"", spdy.FLAG_FIN))
    await settle()
    got = [await ch.receive() for _ in range(4)]
    assert (0, b"ls\n") in got and (255, b"\x00") in got
    assert [b for c, b in got if c == 4] == [b'{"Width": 80, "Height": 24}', b'{"Width": 100, "Height": 30}']
    await ch.send(1, b"out")
    await ch.close()
    frames = client.received()
    assert spdy.DataFrame(5, b"out") in frames and spdy.DataFrame(5, b"", spdy.FLAG_FIN) in frames
    assert any(isinstance(f, spdy.GoAway) for f in frames) and pipe.closed
    pipe.inbound.put_nowait(None)
    await runner


def test_protocols_and_expected_streams():
    assert pick_protocol(["v4.channel.k8s.io", "v3.channel.k8s.io"]) == "v4.channel.k8s.io"
    assert pick_protocol(["v5.channel.k8s.io"]) is None
    assert pick_protocol([]) == "channel.k8s.io"
    assert expected_streams("v4.channel.k8s.io", stdin=True, stdout=True, stderr=True, tty=True) == \
        {"error", "stdin", "stdout", "resize"}
    assert expected_streams("v2.channel.k8s.io", stdin=False, stdout=True, stderr=True, tty=False) == \
        {"error", "stdout", "stderr"}


async def test_a_stream_the_accept_hook_refuses_is_reset_not_replied():
    from nodeagent.server.portforward_spdy import acceptable

    pipe = Pipe()
    client, session, opened = Client(pipe), SpdySession(pipe), []

    async def on_stream(s):
        opened.append(s)
    runner = asyncio.ensure_future(session.run(on_stream, accept=acceptable))
    client.send(spdy.SynStream(1, {"streamtype": "error", "port": "80", "requestid": "0"}),
                spdy.SynStream(3, {"streamtype": "data", "port": "http", "requestid": "0"}),
                spdy.SynStream(5, {"streamtype": "stdin", "port": "80"}))
    await settle()
    assert [s.stream_id for s in opened] == [1]
    frames = client.received()
    assert [(type(f).__name__, f.stream_id) for f in frames] == [("SynReply", 1), ("RstStream", 3), ("RstStream", 5)]
    assert {f.status for f in frames if isinstance(f, spdy.RstStream)} == {spdy.PROTOCOL_ERROR}
    pipe.inbound.put_nowait(None)
    await runner
