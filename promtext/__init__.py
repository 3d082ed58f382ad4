"""Prometheus' text exposition format (version 0.0.4), written by hand, for every
component: the API server (apiserver/http/metrics.py) and the clients
(kubeclient/metrics.py) both count with these and render with `render`.

Counting happens on hot paths (each API request), so the series are plain dicts
keyed by a tuple of label values: one dict update per event, where
prometheus_client's labelled metrics cost about five times more. Rendering walks
them at scrape time. A package of its own, importing nothing of ours, because the
API server and its clients may not import each other.
"""

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


def render(families, const_labels: dict[str, str] | None = None) -> bytes:
    """const_labels go on every sample (which of several processes answered, say)."""
    extra = ",".join(f'{k}="{_escape(v)}"' for k, v in (const_labels or {}).items())
    out: list[str] = []
    for f in families:
        out.append(f"# HELP {f.name} {f.help}\n# TYPE {f.name} {f.kind}\n")
        if extra:
            out.extend(f"{name}{_with_labels(labels, extra)} {_number(v)}\n" for name, labels, v in f.samples())
        else:
            out.extend(f"{name}{labels} {_number(v)}\n" for name, labels, v in f.samples())
    return "".join(out).encode()


def _with_labels(labels: str, extra: str) -> str:
    return labels[:-1] + "," + extra + "}" if labels else "{" + extra + "}"


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
