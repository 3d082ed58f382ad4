"""A SPDY/3.1 framer: bytes in, frames out, and back. Pure: no I/O.

kubectl 1.31+ port-forwards by tunnelling SPDY/3.1 inside WebSocket binary
messages, so the byte stream arrives in arbitrary pieces: `FrameReader.feed`
buffers until whole frames are there. Header blocks are zlib-compressed with
one shared compression context per direction for the life of the connection
(SPDY/3 section 2.6.10.1), so a `FrameReader` and a `FrameWriter` each own
one zlib stream and must see every header block of their direction in order.

Frame layout (SPDY/3 section 2.2): control frames start with the control bit,
a 15-bit version (3) and a 16-bit type; data frames with a 31-bit stream id.
Both then carry 8 bits of flags and a 24-bit length.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3

# control frame types (SPDY/3 section 2.6)
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS = 1, 2, 3, 4
PING, GOAWAY, HEADERS, WINDOW_UPDATE = 6, 7, 8, 9

FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02

# RST_STREAM status codes (section 2.6.3) and GOAWAY status codes (2.6.6)
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL = 1, 2, 3, 5
GOAWAY_OK, GOAWAY_PROTOCOL_ERROR = 0, 1

MAX_LENGTH = 0xFFFFFF  # the 24-bit length field


def _spec_dictionary() -> bytes:
    """The preset zlib dictionary for header blocks, SPDY/3 section 2.6.10.1
    ("Compression"). The specification states it as bytes: these header words,
    each preceded by its length as a 4-byte big-endian integer, followed by
    one run of common values with no length prefixes. Interop needs it exact:
    zlib names the dictionary by its Adler-32 in the stream header."""
    words = [
        "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
        "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
        "cache-control", "connection", "content-base", "content-encoding", "content-language",
        "content-length", "content-location", "content-md5", "content-range", "content-type",
        "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
        "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
        "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range",
        "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
        "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status",
        "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
    ]
    tail = (
        "100101201202205206300302303304305306307"
        "402405406407408409410411412413414415416417"
        "502504505"
        "203 Non-Authoritative Information"
        "204 No Content"
        "301 Moved Permanently"
        "400 Bad Request"
        "401 Unauthorized"
        "403 Forbidden"
        "404 Not Found"
        "500 Internal Server Error"
        "501 Not Implemented"
        "503 Service Unavailable"
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec "
        "00:00:00 "
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun, "
        "GMT"
        "chunked,text/html,image/png,image/jpg,image/gif,application/xml,"
        "application/xhtml+xml,text/plain,text/javascript,"
        "public" "private" "max-age=" "gzip,deflate,sdch" "charset=utf-8" "charset=iso-8859-1,"
        "utf-,*,enq=0."
    )
    out = b"".join(struct.pack(">I", len(w)) + w.encode() for w in words)
    return out + tail.encode()


HEADER_DICTIONARY = _spec_dictionary()


class SpdyProtocolError(Exception):
    """The peer sent bytes that are not SPDY/3.1; the session should GOAWAY."""


@dataclass
class DataFrame:
    stream_id: int
    data: bytes = b""
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass
class SynStream:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    associated_id: int = 0
    priority: int = 0
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


@dataclass
class SynReply:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    flags: int = 0


@dataclass
class Headers:
    stream_id: int
    headers: dict[str, str] = field(default_factory=dict)
    flags: int = 0


@dataclass
class RstStream:
    stream_id: int
    status: int


@dataclass
class Settings:
    entries: list[tuple[int, int, int]] = field(default_factory=list)  # (flags, id, value)
    flags: int = 0


@dataclass
class Ping:
    ping_id: int


@dataclass
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@dataclass
class WindowUpdate:
    stream_id: int
    delta: int


Frame = DataFrame | SynStream | SynReply | Headers | RstStream | Settings | Ping | GoAway | WindowUpdate


def encode_header_block(headers: dict[str, str]) -> bytes:
    """The uncompressed name/value block (section 2.6.10): 32-bit counts and
    lengths; several values of one name are joined with NUL."""
    out = [struct.pack(">I", len(headers))]
    for name, value in headers.items():
        n, v = name.lower().encode(), value.encode()
        out.append(struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v)
    return b"".join(out)


def decode_header_block(block: bytes) -> dict[str, str]:
    try:
        (count,), pos = struct.unpack_from(">I", block, 0), 4
        headers: dict[str, str] = {}
        for _ in range(count):
            (n_len,) = struct.unpack_from(">I", block, pos)
            name = block[pos + 4:pos + 4 + n_len]
            pos += 4 + n_len
            (v_len,) = struct.unpack_from(">I", block, pos)
            value = block[pos + 4:pos + 4 + v_len]
            pos += 4 + v_len
            if len(name) != n_len or len(value) != v_len or not name:
                raise SpdyProtocolError("truncated header block")
            headers[name.decode("latin-1")] = value.decode("latin-1")
        return headers
    except struct.error as e:
        raise SpdyProtocolError(f"malformed header block: {e}") from None


def _control(ftype: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, ftype, (flags << 24) | len(payload)) + payload


class FrameWriter:
    """Serialises frames for one direction; owns that direction's compressor."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, HEADER_DICTIONARY)

    def _compress(self, headers: dict[str, str]) -> bytes:
        # a sync flush ends each block on a byte boundary while keeping the context
        return self._z.compress(encode_header_block(headers)) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            if len(frame.data) > MAX_LENGTH:
                raise ValueError("data frame too long")
            return struct.pack(">II", frame.stream_id & 0x7FFFFFFF,
                               (frame.flags << 24) | len(frame.data)) + frame.data
        if isinstance(frame, SynStream):
            body = struct.pack(">IIBB", frame.stream_id & 0x7FFFFFFF, frame.associated_id & 0x7FFFFFFF,
                               (frame.priority & 7) << 5, 0)
            return _control(SYN_STREAM, frame.flags, body + self._compress(frame.headers))
        if isinstance(frame, SynReply):
            return _control(SYN_REPLY, frame.flags,
                            struct.pack(">I", frame.stream_id & 0x7FFFFFFF) + self._compress(frame.headers))
        if isinstance(frame, Headers):
            return _control(HEADERS, frame.flags,
                            struct.pack(">I", frame.stream_id & 0x7FFFFFFF) + self._compress(frame.headers))
        if isinstance(frame, RstStream):
            return _control(RST_STREAM, 0, struct.pack(">II", frame.stream_id & 0x7FFFFFFF, frame.status))
        if isinstance(frame, Settings):
            body = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (f << 24) | (i & 0xFFFFFF), v) for f, i, v in frame.entries)
            return _control(SETTINGS, frame.flags, body)
        if isinstance(frame, Ping):
            return _control(PING, 0, struct.pack(">I", frame.ping_id))
        if isinstance(frame, GoAway):
            return _control(GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id & 0x7FFFFFFF, frame.status))
        if isinstance(frame, WindowUpdate):
            return _control(WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id & 0x7FFFFFFF,
                                                          frame.delta & 0x7FFFFFFF))
        raise TypeError(f"not a SPDY frame: {frame!r}")


class FrameReader:
    """Parses one direction's byte stream; owns that direction's decompressor."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._z = zlib.decompressobj(zdict=HEADER_DICTIONARY)

    def _headers(self, block: bytes) -> dict[str, str]:
        try:
            return decode_header_block(self._z.decompress(block))
        except zlib.error as e:
            raise SpdyProtocolError(f"header block does not decompress: {e}") from None

    def feed(self, data: bytes) -> list[Frame]:
        """Append bytes; return every frame now complete (unknown control
        types are skipped, as the specification asks)."""
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 8:
            first, flags_len = struct.unpack_from(">II", self._buf, 0)
            flags, length = flags_len >> 24, flags_len & 0xFFFFFF
            if len(self._buf) < 8 + length:
                break
            payload = bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            if not first & 0x80000000:
                frames.append(DataFrame(first & 0x7FFFFFFF, payload, flags))
                continue
            version, ftype = (first >> 16) & 0x7FFF, first & 0xFFFF
            if version != VERSION:
                raise SpdyProtocolError(f"unsupported SPDY version {version}")
            frame = self._control(ftype, flags, payload)
            if frame is not None:
                frames.append(frame)
        return frames

    def _control(self, ftype: int, flags: int, p: bytes) -> Frame | None:
        try:
            if ftype == SYN_STREAM:
                sid, assoc, prio, _slot = struct.unpack_from(">IIBB", p, 0)
                return SynStream(sid & 0x7FFFFFFF, self._headers(p[10:]), assoc & 0x7FFFFFFF, prio >> 5, flags)
            if ftype in (SYN_REPLY, HEADERS):
                (sid,) = struct.unpack_from(">I", p, 0)
                cls = SynReply if ftype == SYN_REPLY else Headers
                return cls(sid & 0x7FFFFFFF, self._headers(p[4:]), flags)
            if ftype == RST_STREAM:
                sid, status = struct.unpack_from(">II", p, 0)
                return RstStream(sid & 0x7FFFFFFF, status)
            if ftype == SETTINGS:
                (n,) = struct.unpack_from(">I", p, 0)
                entries = []
                for i in range(n):
                    fid, value = struct.unpack_from(">II", p, 4 + 8 * i)
                    entries.append((fid >> 24, fid & 0xFFFFFF, value))
                return Settings(entries, flags)
            if ftype == PING:
                return Ping(struct.unpack_from(">I", p, 0)[0])
            if ftype == GOAWAY:
                sid, status = struct.unpack_from(">II", p, 0) if len(p) >= 8 else (
                    struct.unpack_from(">I", p, 0)[0], GOAWAY_OK)
                return GoAway(sid & 0x7FFFFFFF, status)
            if ftype == WINDOW_UPDATE:
                sid, delta = struct.unpack_from(">II", p, 0)
                return WindowUpdate(sid & 0x7FFFFFFF, delta & 0x7FFFFFFF)
        except struct.error:
            raise SpdyProtocolError(f"control frame type {ftype} too short") from None
        return None
