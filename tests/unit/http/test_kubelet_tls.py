"""How the API server checks node agents' serving certificates (spdy_tunnel.kubelet_context),
through real TLS handshakes on loopback."""
from __future__ import annotations

import asyncio
import ssl

import pytest

from apiserver.auth import pki
from apiserver.http.spdy_tunnel import kubelet_context


def _handshake(tmp_path, server_cert, client_ctx: ssl.SSLContext) -> None:
    cert, key = server_cert
    (tmp_path / "s.crt").write_bytes(pki.cert_pem(cert))
    (tmp_path / "s.key").write_bytes(pki.key_pem(key))
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")

    async def main():
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
            writer.close()
        finally:
            server.close()
    asyncio.run(main())


def test_without_a_kubelet_ca_any_certificate_is_taken(tmp_path):
    _handshake(tmp_path, pki.make_serving_cert(*pki.make_ca("self-signed"), ["10.9.9.9"]), kubelet_context(None, None))


def test_with_a_kubelet_ca_the_ca_and_the_address_dialled_are_checked(tmp_path):
    ca, other = pki.make_ca(), pki.make_ca("another-ca")
    (tmp_path / "ca.crt").write_bytes(pki.cert_pem(ca[0]))
    ctx = kubelet_context(None, str(tmp_path / "ca.crt"))
    _handshake(tmp_path, pki.make_serving_cert(*ca, ["127.0.0.1", "n1"]), ctx)
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        _handshake(tmp_path, pki.make_serving_cert(*ca, ["10.9.9.9", "n1"]), ctx)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        _handshake(tmp_path, pki.make_serving_cert(*other, ["127.0.0.1"]), ctx)
