"""A TLS connection's read buffer sized to TLS records, not 256 KiB.

asyncio allocates (and zero-fills) a `max_size` read buffer for every TLS
connection the moment it is accepted, before any handshake: 256 KiB. A thousand
clients that connect and never start their handshake held ~300 MiB, and glibc
kept most of it after they closed (blocks that size come from the heap once
the first ones are freed). A TLS record carries at most 16 KiB of data, so a
buffer of a few records reads just as well; the buffer grows on demand if a
caller asks for more. Applied once, at server start, to the process's TLS
connections (the server's, and any client's it runs in-process).
"""
from __future__ import annotations

# Four full TLS records (16 KiB of data each plus their headers and tags).
READ_BUFFER_BYTES = 16 * 1024 + 256


def install() -> None:
    from asyncio import sslproto

    if sslproto.SSLProtocol.max_size > READ_BUFFER_BYTES:
        sslproto.SSLProtocol.max_size = READ_BUFFER_BYTES
