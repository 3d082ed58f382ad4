"""/metrics of the node agent (through the API server's nodes/proxy, as a scraper
inside the cluster reaches a kubelet) and of the proxy, on real Podman."""
from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import IMAGE


def parse(text: str) -> dict[str, list]:
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples, metric, **labels) -> float:
    return sum(v for lab, v in samples.get(metric, []) if all(lab.get(k) == w for k, w in labels.items()))


def test_node_agent_counts_running_pods_and_their_start(cluster, ns):
    c = cluster
    c.kubectl("run", "sleeper", "-n", ns, f"--image={IMAGE}", "--restart=Never", "--", "sleep", "3600")
    c.wait_for("sleeper running", lambda: c.get("pod", "sleeper", "-n", ns)["status"].get("phase") == "Running")

    def scraped():
        page = parse(c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/metrics").stdout)
        return page if value(page, "kubelet_running_pods") >= 1 else None
    page = c.wait_for("kubelet_running_pods to count the pod", scraped)
    assert value(page, "kubelet_running_containers", container_state="running") >= 1
    assert value(page, "kubelet_pod_start_duration_seconds_count") >= 1
    assert value(page, "kubelet_pod_start_duration_seconds_bucket", le="+Inf") == \
        value(page, "kubelet_pod_start_duration_seconds_count")
    assert value(page, "process_cpu_seconds_total") > 0
    # the PLEG-like relist: each pod worker lists its containers at every sync (RESYNC at the latest)
    relists = value(page, "kubelet_pleg_relist_duration_seconds_count")
    assert relists >= 1

    def relisted():
        again = parse(c.kubectl("get", "--raw", f"/api/v1/nodes/{c.node}/proxy/metrics").stdout)
        return again if value(again, "kubelet_pleg_relist_duration_seconds_count") > relists else None
    again = c.wait_for("another relist", relisted)
    assert value(again, "kubelet_pleg_relist_interval_seconds_count") >= 1
    assert value(again, "kubelet_pleg_relist_interval_seconds_sum") > 0


def test_proxy_times_its_syncs(net_cluster):
    c = net_cluster

    def synced():
        page = parse(httpx.get(c.proxy_metrics).text)
        return page if value(page, "kubeproxy_sync_proxy_rules_duration_seconds_count") >= 1 else None
    page = c.wait_for("a timed proxy sync", synced)
    assert value(page, "kubeproxy_sync_proxy_rules_duration_seconds_sum") > 0
    assert value(page, "kubeproxy_sync_proxy_rules_last_timestamp_seconds") > 0
