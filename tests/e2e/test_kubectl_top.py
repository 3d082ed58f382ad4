"""kubectl top (1.27 and 1.33) on real Podman: metrics.k8s.io served by the API
server from the node agent's /stats/summary; a CPU-burning pod shows non-zero usage."""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import IMAGE


def millicores(text: str) -> float:
    return float(text[:-1]) if text.endswith("m") else float(text) * 1000


@pytest.fixture
def busy_pod(cluster, ns):
    c = cluster
    c.kubectl("run", "burner", "-n", ns, f"--image={IMAGE}", "--restart=Never", "--",
              # a few MiB held in a shell variable, so the working set shows in Mi too
              "sh", "-c", "x=$(head -c 8000000 /dev/zero | tr '\\0' a); while true; do :; done")
    c.wait_for("burner running", lambda: c.get("pod", "burner", "-n", ns)["status"].get("phase") == "Running")
    return "burner"


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_top_pods_and_nodes(cluster, ns, busy_pod, version):
    c = cluster

    def top_pods():
        cp = c.kubectl("top", "pods", "--containers", "-n", ns, version=version, check=False)
        lines = cp.stdout.splitlines()
        return lines if cp.returncode == 0 and len(lines) > 1 and millicores(lines[1].split()[2]) > 0 else None
    lines = c.wait_for("kubectl top pods to show CPU", top_pods, timeout=60, interval=1)
    assert lines[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    pod, container, cpu, memory = lines[1].split()
    assert (pod, container) == ("burner", "burner")
    assert millicores(cpu) >= 100, lines   # a busy loop keeps most of a core busy
    assert memory.endswith("Mi") and int(memory[:-2]) >= 5, lines

    nodes = c.kubectl("top", "nodes", version=version).stdout.splitlines()
    assert nodes[0].split() == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"] or \
        nodes[0].split()[:5] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], nodes
    row = next(line.split() for line in nodes[1:] if line.split()[0] == c.node)
    assert millicores(row[1]) >= 100 and row[3] != "0Mi", nodes


def test_metrics_api_objects_through_the_raw_api(cluster, ns, busy_pod):
    c = cluster
    got = json.loads(c.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/burner").stdout)
    assert got["kind"] == "PodMetrics" and got["containers"][0]["name"] == "burner"
    assert got["containers"][0]["usage"]["cpu"].endswith("n")
    missing = c.kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    summary = json.loads(c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/stats/summary").stdout)
    assert summary["node"]["nodeName"] == c.node and summary["node"]["memory"]["workingSetBytes"] > 0
    resource = c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/metrics/resource").stdout
    assert f'container_cpu_usage_seconds_total{{container="burner",namespace="{ns}",pod="burner"}}' in resource
