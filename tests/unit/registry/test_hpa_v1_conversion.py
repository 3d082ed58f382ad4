"""autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion, as upstream's (pure)."""
from __future__ import annotations

import json

from apiserver.registry.resources.hpa_v1_conversion import BEHAVIOR, CONDITIONS, CURRENT_METRICS, METRICS, \
    from_v1, to_v1

V2 = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "ns", "annotations": {"team": "a"}},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
             "minReplicas": 1, "maxReplicas": 5,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                 "type": "Utilization", "averageUtilization": 60}}},
                 {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {
                     "type": "AverageValue", "averageValue": "10"}}},
                 {"type": "Resource", "resource": {"name": "memory", "target": {
                     "type": "AverageValue", "averageValue": "100Mi"}}}],
             "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
    "status": {"currentReplicas": 2, "desiredReplicas": 2,
               "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                   "averageUtilization": 30, "averageValue": "30m"}}}],
               "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]},
}


def test_v2_to_v1_keeps_cpu_in_the_field_and_the_rest_in_annotations():
    v1 = to_v1(V2)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 60 and "metrics" not in v1["spec"]
    ann = v1["metadata"]["annotations"]
    assert ann["team"] == "a"
    assert json.loads(ann[METRICS]) == [{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}},
                                        {"type": "Resource", "resource": {"name": "memory",
                                                                          "targetAverageValue": "100Mi"}}]
    assert json.loads(ann[BEHAVIOR]) == {"scaleDown": {"stabilizationWindowSeconds": 60}}
    assert v1["status"]["currentCPUUtilizationPercentage"] == 30 and "currentMetrics" not in v1["status"]
    assert json.loads(ann[CONDITIONS])[0]["reason"] == "ReadyForNewScale"
    assert CURRENT_METRICS not in ann


def test_round_trip_through_v1_loses_nothing():
    back = from_v1(to_v1(V2))
    assert back["spec"] == V2["spec"] and back["metadata"] == V2["metadata"]
    assert back["status"]["conditions"] == V2["status"]["conditions"]
    assert back["status"]["currentMetrics"] == [{"type": "Resource", "resource": {"name": "cpu", "current": {
        "averageUtilization": 30}}}]


def test_plain_v1_object_becomes_one_cpu_metric():
    v2 = from_v1({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
                  "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 3,
                           "targetCPUUtilizationPercentage": 50}})
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 50}}}]
    assert "annotations" not in v2["metadata"] and "status" not in v2
