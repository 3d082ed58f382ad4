"""The HPA's arithmetic: tolerance, stabilization windows, behavior policies."""
from __future__ import annotations

from controllers import hpa_algorithm as A
from controllers.hpa_metrics import Usage, container_ratio, ratio_of, resource_ratio, unsupported


def test_within_tolerance_nothing_changes_else_ceil_of_ratio_times_pods():
    assert A.proposal(4, 1.09, 4) == 4
    assert A.proposal(4, 0.91, 4) == 4
    assert A.proposal(4, 1.5, 4) == 6
    assert A.proposal(4, 0.2, 4) == 1
    assert A.proposal(3, 2.0, 0) == 3   # no pod with metrics: no opinion


def test_scale_down_takes_the_highest_recommendation_of_its_window():
    recs = [(0.0, 5), (100.0, 3), (200.0, 2)]
    assert A.stabilized(recs, 200.0, 2, 5, up_window=0, down_window=300) == 5
    assert A.stabilized(recs, 350.0, 2, 5, up_window=0, down_window=300) == 3   # the 5 left the window
    assert A.stabilized([(0.0, 1), (10.0, 8)], 10.0, 8, 2, up_window=0, down_window=300) == 8  # up at once


def test_policies_cap_each_step_counting_recent_scale_events():
    up = A.DEFAULT_SCALE_UP
    assert A.limited(2, 20, up, [], 0.0) == 6                      # max(100% -> 4, +4 pods -> 6)
    assert A.limited(10, 40, up, [], 0.0) == 20                    # 100% beats 4 pods
    events = [A.Event(0.0, 4)]                                     # went 6 -> 10 five seconds ago
    assert A.limited(10, 40, up, events, 5.0) == 12                # from 6 in this period: 12
    only_pods = {"selectPolicy": "Min", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60},
                                                     {"type": "Percent", "value": 50, "periodSeconds": 60}]}
    assert A.limited(10, 2, only_pods, [], 0.0) == 9
    assert A.limited(10, 2, {**only_pods, "selectPolicy": "Max"}, [], 0.0) == 5
    assert A.limited(10, 2, {"selectPolicy": "Disabled"}, [], 0.0) == 10
    assert A.clamp(12, 1, 10) == 10 and A.clamp(0, 1, 10) == 1


def test_utilization_is_usage_over_requests_of_pods_with_metrics():
    pods = [{"metadata": {"name": n}, "spec": {"containers": [{"resources": {"requests": {"cpu": "100m"}}}]}}
            for n in ("a", "b", "c")]
    usage = {"a": {"cpu": 0.2}, "b": {"cpu": 0.1}}   # c has no metrics yet
    metric = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                         "averageUtilization": 50}}}
    ratio, counted, entry = resource_ratio(metric, pods, usage)
    assert counted == 2 and abs(ratio - 3.0) < 1e-9
    assert entry["resource"]["current"] == {"averageUtilization": 150, "averageValue": "150m"}
    assert A.proposal(3, ratio, counted) == 6


def test_memory_utilization_and_average_value_in_bytes():
    pods = [{"metadata": {"name": n}, "spec": {"containers": [{"resources": {"requests": {"memory": "64Mi"}}},
                                                              {"resources": {"requests": {"memory": "64Mi"}}}]}}
            for n in ("a", "b")]
    usage = {"a": {"memory": 192 * 2 ** 20}, "b": {"memory": 64 * 2 ** 20}}   # of 128Mi requested each
    by_share = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization",
                                                                              "averageUtilization": 50}}}
    ratio, counted, entry = resource_ratio(by_share, pods, usage)
    assert counted == 2 and abs(ratio - 2.0) < 1e-9   # 100% used against a 50% target
    assert entry["resource"] == {"name": "memory", "current": {"averageUtilization": 100,
                                                               "averageValue": str(128 * 2 ** 20)}}
    by_value = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                              "averageValue": "256Mi"}}}
    ratio, _, entry = resource_ratio(by_value, pods, usage)
    assert abs(ratio - 0.5) < 1e-9 and entry["resource"]["current"] == {"averageValue": str(128 * 2 ** 20)}


def test_container_resource_counts_only_the_named_container():
    pods = [{"metadata": {"name": n}, "spec": {"containers": [
        {"name": "app", "resources": {"requests": {"cpu": "100m"}}},
        {"name": "sidecar", "resources": {"requests": {"cpu": "900m"}}}]}} for n in ("a", "b")]
    usage = Usage([{"metadata": {"name": n}, "containers": [{"name": "app", "usage": {"cpu": "150m"}},
                                                           {"name": "sidecar", "usage": {"cpu": "10m"}}]}
                   for n in ("a", "b")])
    metric = {"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 50}}}
    ratio, counted, entry = container_ratio(metric, pods, usage)
    assert counted == 2 and abs(ratio - 3.0) < 1e-9   # 150% of app's request against 50%
    assert entry == {"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "app", "current": {"averageUtilization": 150, "averageValue": "150m"}}}
    # the whole pod would be far below its target: 320m of 2000m
    whole = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": 50}}}
    assert ratio_of(whole, pods, usage)[0] < 0.5
    missing = {**metric, "containerResource": {**metric["containerResource"], "container": "nope"}}
    assert container_ratio(missing, pods, usage) is None


def test_custom_and_external_metrics_are_reported_as_unavailable():
    assert unsupported({"type": "Resource"}) is None and unsupported({"type": "ContainerResource"}) is None
    for kind in ("Pods", "Object", "External"):
        reason, message = unsupported({"type": kind})
        assert reason == f"FailedGet{kind}Metric" and "custom.metrics.k8s.io" in message
        assert ratio_of({"type": kind}, [], Usage([])) is None
