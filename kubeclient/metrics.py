"""Prometheus metrics for the clients (controllers, scheduler, node agent, proxy).

Series are plain dicts keyed by a tuple of label values (one dict update per
event; prometheus_client's labelled metrics cost about five times more), in one
process-wide REGISTRY, rendered in the text exposition format at scrape time.
`serve_metrics` answers GET /metrics on a loopback port (upstream serves these on
each component's --bind-address). The API server has the same small module
(apiserver/http/exposition.py): the two may not import each other.
"""
from __future__ import annotations

import asyncio
import os
import resource
import time
from bisect import bisect_left

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(v) -> str:
    if isinstance(v, float):
        if v == float("inf"):
            return "+Inf"
        return repr(v)
    return str(v)


class Counter:
    """Monotonic values by label tuple: `c.values[key] = c.values.get(key, 0) + 1`, or inc()."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...] = ()):
        self.name, self.help, self.labelnames = name, help_text, labelnames
        self.values: dict[tuple, float] = {}

    def inc(self, key: tuple = (), amount: float = 1) -> None:
        self.values[key] = self.values.get(key, 0) + amount

    def samples(self):
        for key, v in self.values.items():
            yield self.name, _labels(self.labelnames, key), v


class Gauge(Counter):
    """Like Counter, but it goes down too; a `read` function makes it computed at scrape time."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...] = (), read=None):
        super().__init__(name, help_text, labelnames)
        self.read = read

    def samples(self):
        values = self.read() if self.read is not None else self.values
        for key, v in values.items():
            yield self.name, _labels(self.labelnames, key), v


class Histogram:
    """Per label tuple: a count per bucket (not cumulative: one increment per
    observation), then the sum and the count. Cumulated when rendered."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...], buckets: tuple[float, ...]):
        self.name, self.help, self.labelnames = name, help_text, labelnames
        self.buckets = tuple(float(b) for b in buckets)
        self.series: dict[tuple, list] = {}

    def observe(self, key: tuple, value: float) -> None:
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = [0] * (len(self.buckets) + 3)
        s[bisect_left(self.buckets, value)] += 1   # le semantics: the first bound >= value
        s[-2] += value
        s[-1] += 1

    def samples(self):
        n = len(self.buckets)
        for key, s in self.series.items():
            acc = 0
            for i, bound in enumerate(self.buckets):
                acc += s[i]
                yield self.name + "_bucket", _labels(self.labelnames, key, f'le="{_number(bound)}"'), acc
            yield self.name + "_bucket", _labels(self.labelnames, key, 'le="+Inf"'), s[-1]
            yield self.name + "_sum", _labels(self.labelnames, key), float(s[-2])
            yield self.name + "_count", _labels(self.labelnames, key), s[n + 2]


def render(families) -> bytes:
    out: list[str] = []
    for f in families:
        out.append(f"# HELP {f.name} {f.help}\n# TYPE {f.name} {f.kind}\n")
        out.extend(f"{name}{labels} {_number(v)}\n" for name, labels, v in f.samples())
    return "".join(out).encode()


_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return time.time() - time.monotonic()


def process_families() -> list:
    """process_* as the Go client's process collector names them, read from /proc/self."""
    with open("/proc/self/stat") as f:
        # the command name (field 2) may hold spaces: split after its closing parenthesis
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, start_ticks = int(fields[11]), int(fields[12]), int(fields[19])
    vsize, rss_pages = int(fields[20]), int(fields[21])
    values = [
        ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         (utime + stime) / _TICKS),
        ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss_pages * _PAGE),
        ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize),
        ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         _boot_time() + start_ticks / _TICKS),
        ("process_open_fds", "gauge", "Number of open file descriptors.", len(os.listdir("/proc/self/fd"))),
        ("process_max_fds", "gauge", "Maximum number of open file descriptors.",
         resource.getrlimit(resource.RLIMIT_NOFILE)[0]),
    ]
    families = []
    for name, kind, help_text, v in values:
        g = Gauge(name, help_text) if kind == "gauge" else Counter(name, help_text)
        g.values[()] = v
        families.append(g)
    return families


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
