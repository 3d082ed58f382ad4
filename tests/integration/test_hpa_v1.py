"""autoscaling/v1 HorizontalPodAutoscalers through the official client, converted
to and from the stored autoscaling/v2 objects as kube-apiserver converts them."""
from __future__ import annotations

import json

from kubernetes import client, watch


def test_autoscaling_group_prefers_v2_and_serves_v1(api_client):
    group = next(g for g in client.ApisApi(api_client).get_api_versions().groups if g.name == "autoscaling")
    assert [v.version for v in group.versions] == ["v2", "v1"] and group.preferred_version.version == "v2"


def test_v1_and_v2_are_two_views_of_one_object(api_client, namespace):
    v1, v2 = client.AutoscalingV1Api(api_client), client.AutoscalingV2Api(api_client)
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    made = v1.create_namespaced_horizontal_pod_autoscaler(namespace, {
        "metadata": {"name": "web"}, "spec": {"scaleTargetRef": ref, "maxReplicas": 4,
                                             "targetCPUUtilizationPercentage": 55}})
    assert made.spec.min_replicas == 1 and made.spec.target_cpu_utilization_percentage == 55
    seen = v2.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert [(m.type, m.resource.name, m.resource.target.average_utilization) for m in seen.spec.metrics] == \
        [("Resource", "cpu", 55)]

    # a v2-only metric survives a read-modify-write through v1 (it rides in an annotation)
    seen.spec.metrics.append(client.V2MetricSpec(type="Pods", pods=client.V2PodsMetricSource(
        metric=client.V2MetricIdentifier(name="qps"),
        target=client.V2MetricTarget(type="AverageValue", average_value="10"))))
    v2.replace_namespaced_horizontal_pod_autoscaler("web", namespace, seen)
    old = v1.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    extra = json.loads(old.metadata.annotations["autoscaling.alpha.kubernetes.io/metrics"])
    assert extra == [{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}]
    old.spec.max_replicas = 6
    v1.replace_namespaced_horizontal_pod_autoscaler("web", namespace, old)
    back = v2.read_namespaced_horizontal_pod_autoscaler("web", namespace)
    assert back.spec.max_replicas == 6 and [m.type for m in back.spec.metrics] == ["Resource", "Pods"]
    assert not (back.metadata.annotations or {})

    # status written through v2 reads as v1's current CPU utilization
    back.status = client.V2HorizontalPodAutoscalerStatus(current_replicas=2, desired_replicas=3, current_metrics=[
        client.V2MetricStatus(type="Resource", resource=client.V2ResourceMetricStatus(
            name="cpu", current=client.V2MetricValueStatus(average_utilization=70)))])
    v2.replace_namespaced_horizontal_pod_autoscaler_status("web", namespace, back)
    st = v1.read_namespaced_horizontal_pod_autoscaler_status("web", namespace).status
    assert (st.current_cpu_utilization_percentage, st.desired_replicas) == (70, 3)

    w = watch.Watch()
    events = [(e["type"], e["object"].spec.target_cpu_utilization_percentage) for e in w.stream(
        v1.list_namespaced_horizontal_pod_autoscaler, namespace, timeout_seconds=5, _request_timeout=10)]
    assert events[:1] == [("ADDED", 55)]
    v1.delete_namespaced_horizontal_pod_autoscaler("web", namespace)


def test_kubectl_reads_the_v1_form(kubectl, namespace):
    kubectl("create", "deployment", "api", "-n", namespace, "--image=localhost/busybox")
    kubectl("autoscale", "deployment", "api", "-n", namespace, "--max=3", "--cpu-percent=40")
    out = kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "api", "-n", namespace, "-o", "json").stdout
    obj = json.loads(out)
    assert obj["apiVersion"] == "autoscaling/v1" and obj["spec"]["targetCPUUtilizationPercentage"] == 40
    table = kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "-n", namespace).stdout
    assert "Deployment/api" in table and "cpu:" in table
