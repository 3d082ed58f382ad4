"""serving/tls_write.py over a real asyncio TLS connection: its writes and the transport's
own keep one order, and a reader that stops reading makes it refuse past the high water."""
from __future__ import annotations

import asyncio
import ssl

from apiserver.assembly.serving import tls_write
from apiserver.auth import pki


def _contexts(tmp_path):
    files = pki.ensure_pki(tmp_path, ["127.0.0.1"])
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(files.cert, files.key)
    client = ssl.create_default_context(cafile=str(files.ca_cert))
    return server, client


async def _pair(tmp_path):
    """(server-side transport, client reader, client writer, server) over loopback TLS."""
    server_ctx, client_ctx = _contexts(tmp_path)
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_client(reader, writer):
        accepted.set_result(writer)
        await asyncio.sleep(3600)

    srv = await asyncio.start_server(on_client, "127.0.0.1", 0, ssl=server_ctx)
    port = srv.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
    server_writer = await asyncio.wait_for(accepted, 10)
    return server_writer.transport, reader, writer, srv


def test_fast_and_ordinary_writes_keep_one_order(tmp_path):
    async def main():
        transport, reader, writer, srv = await _pair(tmp_path)
        write = tls_write.writer(transport, high_water=1 << 20)
        sent = []
        for i in range(300):
            piece = f"{i:05d}".encode() * (1 + i % 700)   # up to ~3.5 KB, some past a TLS record's worth together
            sent.append(piece)
            if i % 4 == 3:
                transport.write(piece)   # the ordinary path, in between
            else:
                assert write(piece)
        want = b"".join(sent)
        got = await asyncio.wait_for(reader.readexactly(len(want)), 30)
        assert got == want
        writer.close()
        transport.close()
        srv.close()

    asyncio.run(main())


def test_a_reader_that_stops_makes_writes_refused_not_lost(tmp_path):
    async def main():
        transport, reader, writer, srv = await _pair(tmp_path)
        write = tls_write.writer(transport, high_water=64 * 1024)
        piece = b"x" * 16_000
        accepted = 0
        for _ in range(2000):   # 32 MB offered: far past the socket buffers of a reader that does not read
            if not write(piece):
                break
            accepted += 1
            await asyncio.sleep(0)
        else:
            raise AssertionError("nothing was refused")
        got = await asyncio.wait_for(reader.readexactly(accepted * len(piece)), 60)
        assert got == piece * accepted   # everything accepted arrives
        writer.close()
        transport.close()
        srv.close()

    asyncio.run(main())
