"""rawupgrade on a real hypercorn over TLS: an app takes an HTTP/1.1 upgrade to a
raw byte stream (as SPDY needs), ordinary requests on the same server still work."""
from __future__ import annotations

import asyncio
import ssl

import pytest

import rawupgrade
from tests.harness import free_port

hypercorn = pytest.importorskip("hypercorn")


async def echo_app(scope, receive, send):
    """Accepts any raw upgrade and echoes bytes upper-cased until the peer sends 'bye'."""
    if scope["type"] != "http":
        return
    if rawupgrade.EXTENSION not in scope.get("extensions", {}):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await send({"type": "http.response.start", "status": 101,
                "headers": [(b"connection", b"Upgrade"), (b"upgrade", b"echo/1")]})
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return
        data = msg.get("body", b"")
        if data.strip() == b"bye":
            await send({"type": "http.response.body", "body": b"BYE", "more_body": False})
            return
        if data:
            await send({"type": "http.response.body", "body": data.upper(), "more_body": True})


@pytest.fixture
def tls_server(tmp_path):
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from nodeagent.server.certs import ensure_serving_cert   # a self-signed serving certificate
    certfile, keyfile = ensure_serving_cert(str(tmp_path / "pki"), "raw-upgrade-test")
    rawupgrade.install()
    port = free_port()
    cfg = Config()
    cfg.bind = [f"127.0.0.1:{port}"]
    cfg.certfile, cfg.keyfile = certfile, keyfile
    cfg.alpn_protocols = ["h2", "http/1.1"]
    return serve, echo_app, cfg, port


async def _talk(port: int, head: bytes):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    writer.write(head)
    await writer.drain()
    return reader, writer


async def test_upgrade_switches_to_raw_bytes_and_plain_requests_still_work(tls_server):
    serve, app, cfg, port = tls_server
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, cfg, shutdown_trigger=stop.wait))
    try:
        for _ in range(100):
            try:
                r, w = await _talk(port, b"GET /plain HTTP/1.1\r\nhost: x\r\n\r\n")
                break
            except OSError:
                await asyncio.sleep(0.05)
        status = await r.readline()
        assert status.startswith(b"HTTP/1.1 200")
        w.close()

        r, w = await _talk(port, b"POST /exec HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\n"
                                 b"upgrade: echo/1\r\ncontent-length: 0\r\n\r\nearly")
        status = await r.readline()
        assert status.startswith(b"HTTP/1.1 101"), status
        headers = (await r.readuntil(b"\r\n\r\n")).lower()
        assert b"upgrade: echo/1" in headers
        assert await r.readexactly(5) == b"EARLY"       # bytes sent with the request head
        w.write(b"hello")
        await w.drain()
        assert await r.readexactly(5) == b"HELLO"
        w.write(b"bye")
        await w.drain()
        assert await r.read() == b"BYE"                 # then the server closes
        w.close()
    finally:
        stop.set()
        await server
