"""Many small writes over a few HTTP/1.1 connections, pipelined.

For the one client that writes the same small request thousands of times a minute
(`nodeagent --simulate 5000` renews 500 Leases/s): through httpx each request costs
about a millisecond of client CPU (its HTTP/2 state machine, header objects,
response decoding), so one process could not keep up. Here the requests waiting
on a connection go out in one TLS write and their answers are read back in order
(HTTP/1.1 pipelining, which the API server's HTTP/1.1 stack answers in order): a
request is a few bytes formatted in place, an answer a status line, headers and a
body returned undecoded.

Only for requests whose answers the caller reads itself and whose loss it
tolerates: when a connection breaks, the requests in flight on it fail with
ConnectionError (the caller retries on its own cadence), and a new connection
is made for the next ones.
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlsplit

from .client import ApiError, _error_from
from .kubeconfig import ClusterConfig

_MAX_BATCH = 256  # requests written at once on one connection


class _Connection:
    def __init__(self, owner: "PipelinedWriter"):
        self.owner = owner
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        reader = writer = None
        while True:
            batch = [await self.queue.get()]
            while len(batch) < _MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            for attempt in (0, 1):
                fresh = writer is None
                try:
                    if writer is None:
                        reader, writer = await self.owner._open()
                    writer.write(b"".join(req for req, _, _ in batch))
                    for _, fut, full in batch:
                        answer = await _read_response(reader)
                        if not fut.done():
                            fut.set_result(answer if full else answer[:2])
                    break
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    answered = any(fut.done() for _, fut, _ in batch)
                    # a kept-alive connection the server closed while idle: once more on a new one
                    if fresh or answered or attempt == 1:
                        _fail(batch, e)
                        if fresh:
                            await asyncio.sleep(0.5)
                        break

    def close(self) -> None:
        self.task.cancel()


def _fail(batch: list, e: Exception) -> None:
    for _, fut, _ in batch:
        if not fut.done():
            fut.set_exception(ConnectionError(f"pipelined request lost: {e!r}"))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, str | None]:
    """(status, body, Retry-After header or None)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, retry_after = 0, False, None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"retry-after":
            retry_after = value.strip().decode("latin-1")
    if not chunked:
        return status, await reader.readexactly(length) if length else b"", retry_after
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body), retry_after
        body += await reader.readexactly(size)
        await reader.readexactly(2)


def error_from(status: int, raw: bytes) -> ApiError:
    """The ApiError the regular client raises for this failed answer."""
    return _error_from(status, raw)


class PipelinedWriter:
    """send(method, path, body) -> (status, raw answer), spread over `connections`
    connections to the server of `config` (its TLS trust, client certificate or
    token)."""

    def __init__(self, config: ClusterConfig, connections: int = 16, user_agent: str = "pocketkube-pipelined"):
        url = urlsplit(config.server)
        self.host = url.hostname or "localhost"
        self.tls = url.scheme == "https"
        self.port = url.port or (443 if self.tls else 80)
        self.ssl = config.ssl_context() if self.tls else None
        auth = f"Authorization: Bearer {config.token}\r\n" if config.token else ""
        self._headers = (f"Host: {url.netloc}\r\nUser-Agent: {user_agent}\r\nAccept: application/json\r\n"
                         f"{auth}").encode()
        self._n = connections
        self._conns: list[_Connection] = []
        self._next = 0

    def use_token(self, token: str) -> None:
        """Requests queued from now on carry this bearer token (a refreshed one)."""
        head = [line for line in self._headers.decode().split("\r\n") if line and
                not line.lower().startswith("authorization:")]
        self._headers = ("\r\n".join([*head, f"Authorization: Bearer {token}"]) + "\r\n").encode()

    async def _open(self):
        ssl_ctx = None
        if self.tls:
            ssl_ctx = self.ssl if isinstance(self.ssl, ssl.SSLContext) else ssl.create_default_context()
            if self.ssl is False:
                ssl_ctx.check_hostname = False
                ssl_ctx.verify_mode = ssl.CERT_NONE
        return await asyncio.open_connection(self.host, self.port, ssl=ssl_ctx,
                                             server_hostname=self.host if self.tls else None)

    def send(self, method: str, path: str, body: bytes, content_type: str = "application/json") -> asyncio.Future:
        """A future of (status, raw answer)."""
        return self._queue(method, path, body, content_type, False)

    def send_full(self, method: str, path: str, body: bytes, content_type: str = "application/json") -> asyncio.Future:
        """A future of (status, raw answer, Retry-After header or None)."""
        return self._queue(method, path, body, content_type, True)

    def _queue(self, method: str, path: str, body: bytes, content_type: str, full: bool) -> asyncio.Future:
        if not self._conns:
            self._conns = [_Connection(self) for _ in range(self._n)]
        conn = self._conns[self._next % self._n]
        self._next += 1
        request = (f"{method} {path} HTTP/1.1\r\n".encode() + self._headers +
                   f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        fut = asyncio.get_running_loop().create_future()
        conn.queue.put_nowait((request, fut, full))
        return fut

    async def close(self) -> None:
        for c in self._conns:
            c.task.cancel()
        for c in self._conns:
            with contextlib.suppress(BaseException):
                await c.task
        self._conns = []
