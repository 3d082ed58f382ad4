"""The API server's /metrics: upstream's series, read by kubectl and parsed by
prometheus_client's own parser, move as requests are made; the page is a
non-resource URL that RBAC guards (system:monitoring)."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import kubectl_runner, running_server


def scrape(kubectl) -> dict[str, list]:
    """name -> [(labels, value)] of every sample on the page (kubectl get --raw /metrics)."""
    page = kubectl("get", "--raw", "/metrics").stdout
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(page):
        for s in family.samples:
            samples.setdefault(s.name, []).append((s.labels, s.value))
    return samples


def value(samples, series, /, **labels) -> float:
    return sum(v for lab, v in samples.get(series, []) if all(lab.get(k) == w for k, w in labels.items()))


def test_request_series_move_with_requests(kubectl, namespace):
    before = scrape(kubectl)
    for i in range(3):
        kubectl("create", "configmap", f"m{i}", "-n", namespace, "--from-literal=a=b")
    kubectl("get", "configmaps", "-n", namespace)
    kubectl("get", "configmap", "m0", "-n", namespace)
    kubectl("get", "configmap", "missing", "-n", namespace, check=False)
    after = scrape(kubectl)
    cm = dict(group="", version="v1", resource="configmaps", component="apiserver")
    assert value(after, "apiserver_request_total", verb="POST", scope="resource", code="201", **cm) - \
        value(before, "apiserver_request_total", verb="POST", scope="resource", code="201", **cm) == 3
    assert value(after, "apiserver_request_total", verb="LIST", scope="namespace", code="200", **cm) > \
        value(before, "apiserver_request_total", verb="LIST", scope="namespace", code="200", **cm)
    assert value(after, "apiserver_request_total", verb="GET", scope="resource", code="200", **cm) > \
        value(before, "apiserver_request_total", verb="GET", scope="resource", code="200", **cm)
    assert value(after, "apiserver_request_total", verb="GET", scope="resource", code="404", **cm) > \
        value(before, "apiserver_request_total", verb="GET", scope="resource", code="404", **cm)
    # the histogram counts the same requests, and its +Inf bucket is its count
    count = value(after, "apiserver_request_duration_seconds_count", verb="POST", **cm)
    assert count >= 3
    assert value(after, "apiserver_request_duration_seconds_bucket", verb="POST", le="+Inf", **cm) == count
    assert value(after, "apiserver_response_sizes_count", verb="POST", **cm) == count
    # stored objects, storage latency, in-flight gauges and the process
    assert value(after, "apiserver_storage_objects", resource="configmaps") >= 3
    assert value(after, "etcd_request_duration_seconds_count", operation="create", type="configmaps") > \
        value(before, "etcd_request_duration_seconds_count", operation="create", type="configmaps")
    assert value(after, "apiserver_admission_step_admission_duration_seconds_count", type="validate",
                 operation="CREATE", rejected="false") > \
        value(before, "apiserver_admission_step_admission_duration_seconds_count", type="validate",
              operation="CREATE", rejected="false")
    assert value(after, "apiserver_admission_step_admission_duration_seconds_count", type="admit") > 0
    # each plugin of the chain, by name
    for plugin, step in (("NamespaceLifecycle", "admit"), ("ResourceQuota", "validate")):
        assert value(after, "apiserver_admission_controller_admission_duration_seconds_count", name=plugin,
                     type=step, operation="CREATE", rejected="false") - \
            value(before, "apiserver_admission_controller_admission_duration_seconds_count", name=plugin,
                  type=step, operation="CREATE", rejected="false") == 3
    # the requests by the kind of client that sent them (what the cluster page draws)
    assert value(after, "pocketkube_apiserver_requests_by_client_total", client="kubectl") - \
        value(before, "pocketkube_apiserver_requests_by_client_total", client="kubectl") >= 6
    kinds = {lab["request_kind"] for lab, _ in after["apiserver_current_inflight_requests"]}
    assert kinds == {"readOnly", "mutating"}
    assert value(after, "apiserver_current_inflight_requests", request_kind="readOnly") >= 1   # the scrape itself
    assert value(after, "process_cpu_seconds_total") > 0
    assert value(after, "process_resident_memory_bytes") > 0


def test_watches_are_long_running_and_their_events_counted(api_client, kubectl, namespace):
    from kubernetes import client, watch

    v1 = client.CoreV1Api(api_client)
    before = scrape(kubectl)
    v1.create_namespaced_config_map(namespace, {"metadata": {"name": "w"}, "data": {"a": "b"}})
    seen = 0
    w = watch.Watch()
    for _ in w.stream(v1.list_namespaced_config_map, namespace, timeout_seconds=2):
        seen += 1
        during = scrape(kubectl)
        w.stop()
    assert seen == 1
    cm = dict(group="", version="v1", resource="configmaps")
    assert value(during, "apiserver_longrunning_requests", verb="WATCH", **cm) >= 1
    assert value(during, "apiserver_watch_events_total", group="", version="v1", kind="ConfigMap") > \
        value(before, "apiserver_watch_events_total", group="", version="v1", kind="ConfigMap")
    # watches are not timed as requests that answer
    assert value(during, "apiserver_request_duration_seconds_count", verb="WATCH") == 0


@pytest.fixture(scope="module")
def rbac_kubectl(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("metrics-rbac"), extra_args=["--authorization-mode=RBAC"]) as srv:
        yield kubectl_runner(srv.kubeconfig, tmp_path_factory.mktemp("metrics-rbac-kubectl"))


def test_metrics_is_a_non_resource_url_for_monitoring(rbac_kubectl):
    denied = rbac_kubectl("get", "--raw", "/metrics", "--as=bob", check=False)
    assert denied.returncode == 1
    assert 'User "bob" cannot get path "/metrics"' in denied.stderr
    allowed = rbac_kubectl("get", "--raw", "/metrics", "--as=bob", "--as-group=system:monitoring")
    assert "apiserver_request_total{" in allowed.stdout
    assert rbac_kubectl("auth", "can-i", "get", "/metrics", "--as=bob", "--as-group=system:monitoring").stdout \
        .strip() == "yes"
