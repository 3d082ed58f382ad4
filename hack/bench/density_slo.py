"""The pure part of the density benchmark: latency percentiles from samples and from
the API server's apiserver_request_duration_seconds histogram, classified as the
Kubernetes API-call latency SLOs classify them.

SLOs (kubernetes/community sig-scalability/slos): mutating calls p99 <= 1 s,
single-object reads (GET) p99 <= 1 s, namespace-scoped LIST p99 <= 5 s,
cluster-scoped LIST p99 <= 30 s, pod startup p99 <= 5 s.
"""
from __future__ import annotations

import math
import re

MUTATING = {"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"}
THRESHOLDS = {"mutating": 1.0, "get": 1.0, "list namespace": 5.0, "list cluster": 30.0, "pod startup": 5.0}

_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def slo_class(verb: str, scope: str) -> str | None:
    """Which SLO a request counts against (None: watches, connects, collection deletes, ...).
    The mutating SLO is for single objects: a DELETE not scoped to one resource deletes a
    collection (upstream's DELETECOLLECTION), which no SLO covers."""
    if verb == "DELETE" and scope != "resource":
        return None
    if verb in MUTATING:
        return "mutating"
    if verb == "GET":
        return "get"
    if verb == "LIST":
        return "list cluster" if scope == "cluster" else "list namespace"
    return None


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no samples."""
    if not samples:
        return math.nan
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def parse_histogram(text: str, name: str) -> dict[tuple, dict[float, float]]:
    """{labels without le (sorted tuple): {le: cumulative count}} for one histogram in Prometheus text."""
    out: dict[tuple, dict[float, float]] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m or m["name"] != f"{name}_bucket":
            continue
        labels = dict(_LABEL.findall(m["labels"] or ""))
        le = float(labels.pop("le"))
        out.setdefault(tuple(sorted(labels.items())), {})[le] = float(m["value"])
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """As Prometheus's histogram_quantile: linear within the bucket holding the q-quantile."""
    les = sorted(buckets)
    total = buckets[les[-1]] if les else 0
    if not total:
        return math.nan
    rank, prev_le, prev_count = q * total, 0.0, 0.0
    for le in les:
        if buckets[le] >= rank:
            if math.isinf(le):
                return prev_le  # the quantile is past the largest finite bound: report that bound
            width = buckets[le] - prev_count
            return prev_le + (le - prev_le) * ((rank - prev_count) / width if width else 1)
        prev_le, prev_count = le, buckets[le]
    return prev_le


def server_latencies(text: str) -> list[dict]:
    """One row per (SLO class, verb, resource, subresource, scope): count and p99, from the server's histogram."""
    rows = []
    for key, buckets in parse_histogram(text, "apiserver_request_duration_seconds").items():
        labels = dict(key)
        cls = slo_class(labels.get("verb", ""), labels.get("scope", ""))
        count = buckets.get(math.inf, 0)
        if cls is None or not count:
            continue
        rows.append({"slo": cls, "verb": labels["verb"], "resource": labels.get("resource", ""),
                     "subresource": labels.get("subresource", ""), "scope": labels.get("scope", ""),
                     "count": int(count), "p99": histogram_quantile(0.99, buckets)})
    return sorted(rows, key=lambda r: (r["slo"], -r["p99"]))


def worst_by_class(rows: list[dict]) -> dict[str, float]:
    """The worst p99 of each SLO class (the SLO holds per resource and verb, so the worst one decides)."""
    worst: dict[str, float] = {}
    for r in rows:
        if not math.isnan(r["p99"]):
            worst[r["slo"]] = max(worst.get(r["slo"], 0.0), r["p99"])
    return worst
