"""The density benchmark (hack/bench/bench_density.py) at its smallest, as a smoke test:
20 simulated nodes and 200 pods through Deployments, created then deleted, on a private
API server. It asserts the outcomes (every pod Running, every pod and namespace gone)
and fails on an SLO only when it is missed five times over: the benchmark prints the
real numbers; this only catches a collapse."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARGIN = 5
THRESHOLDS = {"mutating": 1.0, "get": 1.0, "list namespace": 5.0, "list cluster": 30.0, "pod startup": 5.0}


def test_density_smoke(tmp_path):
    out = tmp_path / "density.json"
    run = subprocess.run([sys.executable, str(REPO / "hack" / "bench" / "bench_density.py"), "--nodes", "20",
                          "--pods", "200", "--pods-per-namespace", "100", "--replicas", "25", "--pod-rate", "100",
                          "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["all_running"] and r["running"] == 200, run.stdout
    assert r["all_deleted"] and r["pods_left"] == 0, run.stdout
    assert r["pod_startup"]["count"] == 200
    assert r["pod_startup"]["p99"] <= MARGIN * THRESHOLDS["pod startup"], run.stdout
    # a p99 of a handful of requests is their maximum: judge the server's series with a few dozen
    for row in r["server"]:
        if row["count"] >= 20 and not math.isnan(row["p99"]):
            assert row["p99"] <= MARGIN * THRESHOLDS[row["slo"]], (row, run.stdout)
    for cls, c in r["client"].items():
        assert c["p99"] <= MARGIN * THRESHOLDS[cls], (cls, c, run.stdout)
    assert not r["client_errors"], run.stdout
