"""One write to a TLS connection with the fewest Python layers: for the watch fan-out.

asyncio's TLS transport passes each write through five methods (the app transport,
the protocol's backlog, its write loop, the outgoing BIO, flow control) before the
socket transport sends it; at 1,000 watchers per event that is paid 1,000 times. While
the TLS layer holds nothing (no backlog, nothing encrypted waiting, not paused by the
socket transport) the same work is: encrypt into the memory BIO, hand the records to
the socket transport, which sends at once or buffers in order. Otherwise, and for
anything that is not asyncio's TLS transport of this Python, the ordinary write.
"""
from __future__ import annotations

import ssl
from typing import Callable


def writer(transport, high_water: int | None = None) -> Callable[[bytes], bool]:
    """write(data) -> bool for `transport`, in order with its ordinary writes. With
    `high_water`, a write is refused (False, nothing written) when the connection is
    closing or the transport already holds more than that; else always True."""
    from asyncio.sslproto import SSLProtocolState

    ordinary = transport.write
    limit = high_water if high_water is not None else float("inf")

    def slow(data: bytes) -> bool:
        if high_water is not None and (transport.is_closing() or transport.get_write_buffer_size() > limit):
            return False
        ordinary(data)
        return True

    proto = getattr(transport, "_ssl_protocol", None)
    sslobj = getattr(proto, "_sslobj", None)
    outgoing = getattr(proto, "_outgoing", None)
    if sslobj is None or outgoing is None or not hasattr(proto, "_write_backlog") \
            or not hasattr(proto, "_ssl_writing_paused"):
        return slow
    wrapped = SSLProtocolState.WRAPPED
    backlog = proto._write_backlog

    def write(data: bytes) -> bool:
        raw = proto._transport
        if proto._state is not wrapped or backlog or proto._ssl_writing_paused or raw is None \
                or outgoing.pending or raw.is_closing():
            return slow(data)
        try:
            count = sslobj.write(data)   # a memory BIO takes it all
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            count = 0
        except Exception as e:   # as asyncio's own write would report it
            proto._fatal_error(e, "Fatal error on SSL protocol")
            return True
        if count:
            raw.write(outgoing.read())
        if count < len(data):   # the rest in asyncio's order, behind what was just sent
            ordinary(data[count:])
        return True

    return write
