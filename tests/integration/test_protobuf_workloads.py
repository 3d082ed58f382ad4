"""Workloads posted as protobuf keep every field of their pod template.

kubectl's `create job --from=cronjob/x` copies the CronJob's whole job template
into a Job it POSTs as protobuf; a Deployment posted as protobuf through the
Python client's own HTTPS connection (the official client has no protobuf
encoder: the body is built with tests/protowire.py) carries probes and affinity."""
from __future__ import annotations

import json

import pytest
from kubernetes import client

from tests.protowire import CONTENT_TYPE, entry, envelope, ld, s, vi

RICH_POD = {
    "restartPolicy": "Never",
    "containers": [{
        "name": "web", "image": "busybox", "command": ["sh", "-c", "true"],
        "readinessProbe": {"httpGet": {"path": "/index.html", "port": 80, "httpHeaders": [{"name": "X", "value": "y"}]},
                           "periodSeconds": 1, "failureThreshold": 1},
        "livenessProbe": {"exec": {"command": ["true"]}, "initialDelaySeconds": 3},
        "startupProbe": {"tcpSocket": {"port": "http"}, "failureThreshold": 30},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
        "ports": [{"name": "http", "containerPort": 80}],
        "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "cfg", "optional": True}}],
        "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}],
        "resources": {"limits": {"memory": "64Mi"}},
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "info", "mountPath": "/info"}]}],
    "affinity": {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "rich"}}, "topologyKey": "kubernetes.io/hostname"}]}},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                                   "labelSelector": {"matchLabels": {"app": "rich"}}}],
    "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.local"]}],
    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    "readinessGates": [{"conditionType": "example.com/ready"}],
    "securityContext": {"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}]},
    "volumes": [{"name": "info", "projected": {"sources": [
        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}],
}


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_create_job_from_a_cronjob_keeps_the_whole_pod_template(kubectl, namespace, api_client, version):
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "rich"}, "spec": {
        "schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": {
            "backoffLimit": 2,
            "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3, 5]}}]},
            "template": {"metadata": {"labels": {"app": "rich"}}, "spec": RICH_POD}}}}}
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(cronjob), version=version)  # JSON
    out = kubectl("create", "job", "manual", "--from=cronjob/rich", "-n", namespace, version=version)  # protobuf
    assert "job.batch/manual created" in out.stdout
    batch = client.BatchV1Api(api_client)
    source = api_client.sanitize_for_serialization(batch.read_namespaced_cron_job("rich", namespace))
    job = api_client.sanitize_for_serialization(batch.read_namespaced_job("manual", namespace))
    want = source["spec"]["jobTemplate"]["spec"]
    assert job["spec"]["template"]["spec"] == want["template"]["spec"]
    assert job["spec"]["podFailurePolicy"] == want["podFailurePolicy"]
    assert job["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/index.html"


def _deployment_protobuf(name: str) -> bytes:
    """apps/v1 Deployment: one replica of a container with a readiness probe, and node affinity."""
    labels = entry(11, "app", b"proto")  # a map<string,string> entry
    probe = ld(1, ld(2, s(1, "/healthz") + ld(2, vi(1, 0) + vi(2, 8080)))) + vi(4, 2) + vi(6, 3)
    container = s(1, "web") + s(2, "busybox") + ld(11, probe)
    term = ld(1, s(1, "zone") + s(2, "In") + s(3, "a"))
    affinity = ld(1, ld(1, ld(1, term)))
    template = ld(1, labels) + ld(2, ld(2, container) + ld(18, affinity))
    selector = ld(2, entry(1, "app", b"proto"))  # matchLabels
    return envelope("apps/v1", "Deployment", ld(1, s(1, name)) + ld(2, vi(1, 1) + selector + ld(3, template)))


def test_a_deployment_posted_as_protobuf_keeps_probes_and_affinity(api_client, namespace):
    cfg = api_client.configuration
    headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/json"}
    for setting in cfg.auth_settings().values():
        if setting.get("in") == "header" and setting.get("value"):
            headers[setting["key"]] = setting["value"]
    r = api_client.rest_client.pool_manager.request(
        "POST", f"{cfg.host}/apis/apps/v1/namespaces/{namespace}/deployments",
        body=_deployment_protobuf("proto"), headers=headers)
    assert r.status == 201, r.data
    d = client.AppsV1Api(api_client).read_namespaced_deployment("proto", namespace)
    c = d.spec.template.spec.containers[0]
    assert (c.readiness_probe.http_get.path, c.readiness_probe.http_get.port) == ("/healthz", 8080)
    assert (c.readiness_probe.period_seconds, c.readiness_probe.failure_threshold) == (2, 3)
    term = d.spec.template.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    assert term.node_selector_terms[0].match_expressions[0].values == ["a"]
