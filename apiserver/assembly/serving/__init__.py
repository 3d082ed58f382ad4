"""Serving the ASGI app over HTTPS: the one place that knows the HTTP server
(hypercorn), its TLS set-up and its fixes. Only assembly.server imports it, so a
change of HTTP server touches this package alone.

  serve_app(app, sock, ...)   TLS, ALPN h2 + http/1.1, on a socket bound beforehand
                              (so --secure-port 0 works and the kubeconfig names the real port)
  tlspeer (shared package)    clients are asked for certificates; each request's scope carries
                              the peer's (the ASGI TLS extension) for the app to verify
  h2_late_data.py             late request DATA must not kill an HTTP/2 connection
  h2_streams.py               1,000 streams per connection, reset streams dropped, extra ones refused
  connection_limits.py        caps on connections per client address and in total, at accept()
  header_timeout.py           HTTP/1.1 headers must arrive whole in time (slowloris)
  peer_gone.py                a client gone mid-response ends quietly; idle HTTP/2 closes with GOAWAY
  tls_close.py                at shutdown, a TLS peer that never answers close_notify is dropped
  tls_buffers.py              a TLS connection's read buffer sized to TLS records, not 256 KiB
  status_line.py              `HTTP/1.1 404 Not Found`, as Go writes it
  direct_body.py              a watch's events written straight to its connection (HTTP/1.1 here,
                              HTTP/2 in h2_direct.py: DATA frames gathered per connection)
  tls_write.py                a TLS write with the fewest Python layers, for that fan-out
  unread_body.py              an answer given before the request body was read keeps the connection
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

from ..options import ConnectionLimits
from . import (connection_limits, direct_body, h2_late_data, h2_streams, header_timeout, idle_watch, peer_gone,
               status_line, tls_buffers, tls_close, unread_body)

log = logging.getLogger("apiserver")

# client-go multiplexes every request on one HTTP/2 connection; hypercorn's
# default of 1000 requests per connection would GOAWAY it mid-flight.
KEEP_ALIVE_MAX_REQUESTS = 2**62
# hypercorn listens again with its own backlog (100): keep the one bind_socket chose.
LISTEN_BACKLOG = 1024
# kube-apiserver's --http2-max-streams-per-connection default (watches are streams too).
H2_MAX_CONCURRENT_STREAMS = 1000


def _config(certfile: Path, keyfile: Path, graceful_timeout: float, limits: ConnectionLimits):
    from .date_header import DateCachingConfig

    cfg = DateCachingConfig()
    cfg.certfile = str(certfile)
    cfg.keyfile = str(keyfile)
    cfg.alpn_protocols = ["h2", "http/1.1"]
    cfg.keep_alive_max_requests = KEEP_ALIVE_MAX_REQUESTS
    # hypercorn's keep-alive timer runs only while no request is open: a watch is never "idle".
    cfg.keep_alive_timeout = limits.idle_timeout
    cfg.ssl_handshake_timeout = limits.tls_handshake_timeout
    cfg.request_header_timeout = limits.request_header_timeout  # read by header_timeout.py
    cfg.graceful_timeout = graceful_timeout
    cfg.backlog = LISTEN_BACKLOG
    cfg.h2_max_concurrent_streams = H2_MAX_CONCURRENT_STREAMS
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.include_server_header = False
    return cfg


async def serve_app(app, sock: socket.socket, *, certfile: Path, keyfile: Path, graceful_timeout: float,
                    shutdown_trigger: Callable[[], Awaitable[None]], stopping: asyncio.Event,
                    client_ca_file: Path | None = None, limits: ConnectionLimits | None = None) -> None:
    """Serve `app` on the listening `sock` until shutdown_trigger() returns, then give
    open requests and watches `graceful_timeout` seconds. The server takes over the fd
    (`sock` is left detached) and closes it. With `client_ca_file`, clients are asked for
    a certificate (see tlspeer)."""
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.config import Sockets
    from hypercorn.utils import wrap_app

    limits = limits or ConnectionLimits()
    h2_late_data.install()
    h2_streams.install()
    header_timeout.install()
    idle_watch.install()
    peer_gone.install()
    tls_close.install()   # after peer_gone: wraps its idle close
    tls_buffers.install()
    status_line.install()
    direct_body.install()
    rawupgrade.install()   # HTTP/1.1 upgrades to SPDY reach the app (kubectl before 1.30)
    unread_body.install()  # after rawupgrade: wraps its stream_send
    asyncio.get_running_loop().set_exception_handler(_quiet_connection_teardown)
    cfg = _config(certfile, keyfile, graceful_timeout, limits)
    if client_ca_file is not None:
        tlspeer.request_client_certificates(cfg, client_ca_file)
    listener = connection_limits.LimitedListener.wrap(
        sock, connection_limits.ConnectionCaps(total=limits.max_connections, per_client=limits.max_connections_per_client))
    try:
        await worker_serve(wrap_app(app, cfg.wsgi_max_body_size, "asgi"), cfg, shutdown_trigger=shutdown_trigger,
                           sockets=Sockets(secure_sockets=[listener], insecure_sockets=[], quic_sockets=[]))
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
    if isinstance(exc, asyncio.CancelledError):
        # A connection still open when the graceful timeout ran out is cancelled, and
        # asyncio's stream callback then reports the cancellation as an error.
        return True
    return isinstance(exc, (ssl.SSLError, ConnectionError))


def _quiet_connection_teardown(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # One debug line instead of a traceback per closed client connection; anything
    # else still goes to asyncio's default handler.
    if _is_connection_teardown(context.get("exception")):
        log.debug("client connection ended uncleanly: %s", context.get("exception"))
        return
    loop.default_exception_handler(context)
