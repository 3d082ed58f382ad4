"""The density benchmark's SLO arithmetic (hack/bench/density_slo.py)."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "density_slo", Path(__file__).resolve().parents[2] / "hack" / "bench" / "density_slo.py")
slo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(slo)

TEXT = """# HELP apiserver_request_duration_seconds x
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{verb="POST",resource="pods",subresource="",scope="namespace",le="0.1"} 90
apiserver_request_duration_seconds_bucket{verb="POST",resource="pods",subresource="",scope="namespace",le="0.5"} 100
apiserver_request_duration_seconds_bucket{verb="POST",resource="pods",subresource="",scope="namespace",le="+Inf"} 100
apiserver_request_duration_seconds_count{verb="POST",resource="pods",subresource="",scope="namespace"} 100
apiserver_request_duration_seconds_bucket{verb="LIST",resource="pods",subresource="",scope="cluster",le="1"} 0
apiserver_request_duration_seconds_bucket{verb="LIST",resource="pods",subresource="",scope="cluster",le="+Inf"} 2
apiserver_request_duration_seconds_bucket{verb="WATCH",resource="pods",subresource="",scope="cluster",le="+Inf"} 5
"""


def test_requests_are_classified_as_the_slos_classify_them():
    assert slo.slo_class("PATCH", "resource") == "mutating"
    assert slo.slo_class("GET", "resource") == "get"
    assert slo.slo_class("LIST", "namespace") == "list namespace"
    assert slo.slo_class("LIST", "cluster") == "list cluster"
    assert slo.slo_class("WATCH", "cluster") is None
    assert slo.slo_class("DELETE", "namespace") is None  # a collection: no SLO covers it
    assert slo.slo_class("DELETE", "resource") == "mutating"


def test_p99_interpolates_within_the_bucket_and_stops_at_the_largest_finite_bound():
    rows = {(r["verb"], r["scope"]): r for r in slo.server_latencies(TEXT)}
    assert set(rows) == {("POST", "namespace"), ("LIST", "cluster")}  # watches count against no SLO
    assert math.isclose(rows["POST", "namespace"]["p99"], 0.1 + 0.4 * 0.9)
    assert rows["LIST", "cluster"]["p99"] == 1.0 and rows["LIST", "cluster"]["count"] == 2
    assert slo.worst_by_class(list(rows.values())) == {"mutating": rows["POST", "namespace"]["p99"],
                                                       "list cluster": 1.0}


def test_nearest_rank_percentile():
    assert slo.percentile(list(range(1, 101)), 99) == 99
    assert slo.percentile([3.0], 99) == 3.0
    assert math.isnan(slo.percentile([], 99))
