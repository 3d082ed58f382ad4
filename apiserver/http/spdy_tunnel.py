"""pods/exec, attach and portforward for SPDY clients (kubectl before 1.30/1.31).

As kube-apiserver does, the API server does not speak SPDY itself: once the
request is authorized it makes the same HTTP/1.1 upgrade to the pod's node agent
(with its own client certificate), and when that answers 101 it answers the
client 101 with the protocol the node agent chose, then copies bytes both ways
until either side closes. Any other answer from the node agent (a 404 for a
missing container, a 403 for an unknown protocol) is relayed as it is.

The client connection is taken over through the server's raw-upgrade convention
(package rawupgrade; this module only knows its scope key and messages).
"""
from __future__ import annotations

import asyncio
import ssl

RAW_UPGRADE = "http.upgrade.raw"     # rawupgrade.EXTENSION: the server lets this request switch
HEAD_LIMIT = 64 * 1024
CONNECT_TIMEOUT_S = 10.0


def _values(scope, name: bytes) -> list[str]:
    out = []
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            out += [p.strip() for p in v.decode("latin-1").split(",") if p.strip()]
    return out


def is_spdy_upgrade(scope) -> bool:
    return RAW_UPGRADE in (scope.get("extensions") or {}) and \
        [v.lower() for v in _values(scope, b"upgrade")] == ["spdy/3.1"]


def offered_protocols(scope) -> list[str]:
    return _values(scope, b"x-stream-protocol-version")


def kubelet_context(client_cert: tuple[str, str] | None, kubelet_ca: str | None) -> ssl.SSLContext:
    """TLS toward node agents. With `kubelet_ca` (--kubelet-certificate-authority) their serving
    certificates must be signed by it and name the address dialled; without it they are not
    verified (self-signed ones), as kube-apiserver without that flag."""
    if kubelet_ca:
        ctx = ssl.create_default_context(cafile=kubelet_ca)   # that CA only, not the system's
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx


def tunnel_context(client_cert: tuple[str, str] | None, kubelet_ca: str | None = None) -> ssl.SSLContext:
    """TLS toward node agents for an upgrade: HTTP/1.1 only (an upgrade has no HTTP/2 form),
    verified as every other hop is."""
    ctx = kubelet_context(client_cert, kubelet_ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Backend:
    """The node agent's answer to the upgrade request, and the connection it came on."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, reader, writer):
        self.status, self.headers, self.body, self.reader, self.writer = status, headers, body, reader, writer

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def close(self) -> None:
        self.writer.close()


async def upgrade(host: str, port: int, target: str, protocols: list[str], ctx: ssl.SSLContext) -> Backend:
    """Send the upgrade request for `target` (path?query) to a node agent and read its answer's head
    (and its body, when it refused)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx), CONNECT_TIMEOUT_S)
    try:
        lines = [f"POST {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: Upgrade", "Upgrade: SPDY/3.1",
                 *[f"X-Stream-Protocol-Version: {p}" for p in protocols], "Content-Length: 0", "", ""]
        writer.write("\r\n".join(lines).encode("latin-1"))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CONNECT_TIMEOUT_S)
        if len(head) > HEAD_LIMIT:
            raise ConnectionError("the node agent's answer head is too large")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines if h)]
        backend = Backend(status, headers, b"", reader, writer)
        if status != 101:
            length = int(backend.header("content-length") or 0)
            backend.body = await asyncio.wait_for(reader.readexactly(min(length, 1 << 20)), CONNECT_TIMEOUT_S)
        return backend
    except BaseException:
        writer.close()
        raise


async def splice(receive, send, backend: Backend) -> None:
    """Copy bytes both ways between the upgraded client connection and the node agent's."""
    async def client_to_node():
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            if msg.get("body"):
                backend.writer.write(msg["body"])
                await backend.writer.drain()

    async def node_to_client():
        while data := await backend.reader.read(64 * 1024):
            await send({"type": "http.response.body", "body": data, "more_body": True})

    tasks = [asyncio.ensure_future(client_to_node()), asyncio.ensure_future(node_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        backend.close()
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (RuntimeError, OSError):
            pass
