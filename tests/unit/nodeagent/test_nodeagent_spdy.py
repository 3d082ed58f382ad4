"""The SPDY/3.1 framer: frames round-trip, arrive in any pieces, and header
blocks share one zlib context per direction."""
from __future__ import annotations

import struct
import zlib

import pytest

from nodeagent.server import spdy


def test_dictionary_is_the_specs():
    # 1423 bytes; the Adler-32 is what zlib puts in the stream header, and
    # kubectl (Go's SPDY framer) accepted header blocks carrying this one.
    assert len(spdy.HEADER_DICTIONARY) == 1423
    assert zlib.adler32(spdy.HEADER_DICTIONARY) == 0xE3C6A7C2
    assert spdy.HEADER_DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")


FRAMES = [
    spdy.DataFrame(1, b"hello", spdy.FLAG_FIN),
    spdy.DataFrame(3, b""),
    spdy.SynStream(1, {"streamtype": "error", "port": "8080", "requestid": "0"}, 0, 2, spdy.FLAG_FIN),
    spdy.SynReply(1, {}),
    spdy.Headers(5, {"a": "b\x00c"}),
    spdy.RstStream(7, spdy.CANCEL),
    spdy.Settings([(0, 7, 65536), (1, 4, 100)]),
    spdy.Ping(42),
    spdy.GoAway(9, spdy.GOAWAY_PROTOCOL_ERROR),
    spdy.WindowUpdate(3, 1024),
]


def test_every_frame_round_trips():
    w, r = spdy.FrameWriter(), spdy.FrameReader()
    wire = b"".join(w.encode(f) for f in FRAMES)
    assert r.feed(wire) == FRAMES


def test_frames_arrive_in_any_pieces():
    w, r = spdy.FrameWriter(), spdy.FrameReader()
    wire = b"".join(w.encode(f) for f in FRAMES)
    got = []
    for i in range(len(wire)):  # one byte at a time, as a WebSocket tunnel may cut them
        got += r.feed(wire[i:i + 1])
    assert got == FRAMES


def test_header_blocks_share_one_zlib_stream_per_direction():
    w, r = spdy.FrameWriter(), spdy.FrameReader()
    h = {"streamtype": "data", "port": "8080", "requestid": "1"}
    first, second = w.encode(spdy.SynStream(1, h)), w.encode(spdy.SynStream(3, h))
    assert len(second) < len(first)  # the second block refers back into the shared window
    assert r.feed(first) == [spdy.SynStream(1, h)]
    assert r.feed(second) == [spdy.SynStream(3, h)]
    # a fresh reader cannot decode the second block alone: it needs the stream's history
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.FrameReader().feed(second)


def test_control_frame_layout():
    wire = spdy.FrameWriter().encode(spdy.RstStream(5, spdy.CANCEL))
    assert wire == struct.pack(">HHIII", 0x8003, 3, 8, 5, 5)
    data = spdy.FrameWriter().encode(spdy.DataFrame(3, b"xy", spdy.FLAG_FIN))
    assert data == struct.pack(">II", 3, 0x01000002) + b"xy"


def test_unknown_control_types_are_skipped_and_bad_versions_refused():
    r = spdy.FrameReader()
    unknown = struct.pack(">HHI", 0x8003, 77, 2) + b"zz"
    assert r.feed(unknown + spdy.FrameWriter().encode(spdy.Ping(1))) == [spdy.Ping(1)]
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.FrameReader().feed(struct.pack(">HHI", 0x8002, 6, 4) + b"\0\0\0\1")


def test_short_control_frames_are_protocol_errors():
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.FrameReader().feed(struct.pack(">HHI", 0x8003, spdy.RST_STREAM, 2) + b"\0\1")


def test_header_block_encoding():
    block = spdy.encode_header_block({"Port": "80"})
    assert block == b"\0\0\0\1" + b"\0\0\0\4port" + b"\0\0\0\x0280"
    assert spdy.decode_header_block(block) == {"port": "80"}
    with pytest.raises(spdy.SpdyProtocolError):
        spdy.decode_header_block(b"\0\0\0\2\0\0\0\1p")
