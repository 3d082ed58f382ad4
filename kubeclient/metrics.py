"""Prometheus metrics for the clients (controllers, scheduler, node agent, proxy).

One process-wide REGISTRY of the series (promtext's plain-dict counters, gauges
and histograms), rendered in the text exposition format at scrape time.
`serve_metrics` answers GET /metrics on a loopback port (upstream serves these on
each component's --bind-address).
"""
from __future__ import annotations

import asyncio

from promtext import CONTENT_TYPE, Counter, Gauge, Histogram, process_families, render

__all__ = ["CONTENT_TYPE", "Counter", "Gauge", "Histogram", "REGISTRY", "counter", "gauge", "histogram",
           "exposition", "serve_metrics"]


REGISTRY: dict[str, object] = {}   # name -> Counter / Gauge / Histogram, in registration order


def register(metric):
    """The registered metric of that name (the first one registered wins: modules
    that are imported twice, or several queues, share it)."""
    return REGISTRY.setdefault(metric.name, metric)


def counter(name: str, help_text: str, labelnames: tuple[str, ...] = ()) -> Counter:
    return register(Counter(name, help_text, labelnames))


def gauge(name: str, help_text: str, labelnames: tuple[str, ...] = (), read=None) -> Gauge:
    return register(Gauge(name, help_text, labelnames, read))


def histogram(name: str, help_text: str, labelnames: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
    return register(Histogram(name, help_text, labelnames, buckets))


def exposition() -> bytes:
    return render([*REGISTRY.values(), *process_families()])


async def serve_metrics(address: str) -> asyncio.AbstractServer:
    """Serve GET /metrics over plain HTTP on `host:port` (port 0: any free one; the
    server's sockets name it). One request per connection; anything else is a 404."""
    host, _, port = address.rpartition(":")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b""
            if path.split(b"?")[0] == b"/metrics":
                status, ctype, body = b"200 OK", CONTENT_TYPE.encode(), exposition()
            else:
                status, ctype, body = b"404 Not Found", b"text/plain", b"404 page not found\n"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host.strip("[]") or "127.0.0.1", int(port))
