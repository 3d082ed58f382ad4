"""Serving the ASGI app over HTTPS: the one place that knows the HTTP server
(hypercorn), its TLS set-up and its fixes. Only assembly.server imports it, so a
change of HTTP server touches this package alone.

  serve_app(app, sock, ...)   TLS, ALPN h2 + http/1.1, on a socket bound beforehand
                              (so --secure-port 0 works and the kubeconfig names the real port)
  tlspeer (shared package)    clients are asked for certificates; each request's scope carries
                              the peer's (the ASGI TLS extension) for the app to verify
  h2_late_data.py             late request DATA must not kill an HTTP/2 connection
  status_line.py              `HTTP/1.1 404 Not Found`, as Go writes it
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from pathlib import Path
from typing import Awaitable, Callable

import rawupgrade
import tlspeer

from . import h2_late_data, status_line

log = logging.getLogger("apiserver")

# client-go multiplexes every request on one HTTP/2 connection; hypercorn's
# default of 1000 requests per connection would GOAWAY it mid-flight.
KEEP_ALIVE_MAX_REQUESTS = 2**62
# Watches stay open for many minutes; hypercorn must not time them out for being quiet.
KEEP_ALIVE_TIMEOUT_S = 3600
# client-go opens up to 250 concurrent streams (watches are streams too).
H2_MAX_CONCURRENT_STREAMS = 1000


def _config(sock: socket.socket, certfile: Path, keyfile: Path, graceful_timeout: float):
    from hypercorn.config import Config

    cfg = Config()
    cfg.bind = [f"fd://{sock.fileno()}"]
    cfg.certfile = str(certfile)
    cfg.keyfile = str(keyfile)
    cfg.alpn_protocols = ["h2", "http/1.1"]
    cfg.keep_alive_max_requests = KEEP_ALIVE_MAX_REQUESTS
    cfg.keep_alive_timeout = KEEP_ALIVE_TIMEOUT_S
    cfg.graceful_timeout = graceful_timeout
    cfg.h2_max_concurrent_streams = H2_MAX_CONCURRENT_STREAMS
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.include_server_header = False
    return cfg


async def serve_app(app, sock: socket.socket, *, certfile: Path, keyfile: Path, graceful_timeout: float,
                    shutdown_trigger: Callable[[], Awaitable[None]], stopping: asyncio.Event,
                    client_ca_file: Path | None = None) -> None:
    """Serve `app` on the listening `sock` until shutdown_trigger() returns, then give
    open requests and watches `graceful_timeout` seconds. The server closes the fd.
    With `client_ca_file`, clients are asked for a certificate (see tlspeer)."""
    from hypercorn.asyncio import serve as hypercorn_serve

    h2_late_data.install()
    status_line.install()
    rawupgrade.install()   # HTTP/1.1 upgrades to SPDY reach the app (kubectl before 1.30)
    asyncio.get_running_loop().set_exception_handler(_quiet_connection_teardown)
    cfg = _config(sock, certfile, keyfile, graceful_timeout)
    if client_ca_file is not None:
        tlspeer.request_client_certificates(cfg, client_ca_file)
    try:
        await hypercorn_serve(app, cfg, shutdown_trigger=shutdown_trigger, mode="asgi")
    except (ssl.SSLError, ConnectionError) as e:
        # While closing, a TLS peer that keeps writing after close_notify makes hypercorn's
        # wait_closed() raise; the shutdown itself is done, so it is not a failed exit.
        if not stopping.is_set():
            raise
        log.warning("connection error while shutting down: %s", e)


def _is_connection_teardown(exc: BaseException | None) -> bool:
    """A peer that went away mid-TLS (close-notify races, a TLS shutdown that times
    out): hypercorn leaves these in connection tasks nobody awaits."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_connection_teardown(e) for e in exc.exceptions)
    if isinstance(exc, TimeoutError):
        return "SSL shutdown" in str(exc)
    return isinstance(exc, (ssl.SSLError, ConnectionError))


def _quiet_connection_teardown(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # One debug line instead of a traceback per closed client connection; anything
    # else still goes to asyncio's default handler.
    if _is_connection_teardown(context.get("exception")):
        log.debug("client connection ended uncleanly: %s", context.get("exception"))
        return
    loop.default_exception_handler(context)
