"""kubectl commands a newcomer runs on workloads, on the oldest and newest kubectl:
`expose deployment` makes a Service selecting the Deployment's pods, `describe deployment`
prints its spec, and `apply --prune` works without `--prune-allowlist` now that every kind
in kubectl's compiled-in prune list is served (it fails on the first kind a server lacks)."""
from __future__ import annotations

import json

import pytest

VERSIONS = ["1.27", "1.33"]


@pytest.mark.parametrize("version", VERSIONS)
def test_expose_and_describe_a_deployment(kubectl, namespace, version):
    kubectl("create", "deployment", "web", "--image=busybox", "--replicas=2", "-n", namespace, version=version)
    out = kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", namespace,
                  version=version).stdout
    assert out.strip() == "service/web exposed", out
    svc = json.loads(kubectl("get", "svc", "web", "-n", namespace, "-o", "json", version=version).stdout)
    assert svc["spec"]["selector"] == {"app": "web"}
    (port,) = svc["spec"]["ports"]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["clusterIP"]

    described = kubectl("describe", "deployment", "web", "-n", namespace, version=version).stdout
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip()
              for line in described.splitlines() if ":" in line and not line.startswith(" ")}
    assert fields["Name"] == "web" and fields["Namespace"] == namespace, described
    assert fields["Selector"] == "app=web", described
    assert fields["Replicas"].startswith("2 desired"), described
    assert fields["StrategyType"] == "RollingUpdate", described


@pytest.mark.parametrize("version", VERSIONS)
def test_apply_prune_without_an_allowlist(kubectl, namespace, version):
    def configmap(name: str) -> dict:
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app": "prune"}}, "data": {"k": name}}

    both = json.dumps({"apiVersion": "v1", "kind": "List", "items": [configmap("keep"), configmap("extra")]})
    kubectl("apply", "-f", "-", input=both, version=version)
    out = kubectl("apply", "--prune", "-l", "app=prune", "-n", namespace, "-f", "-",
                  input=json.dumps(configmap("keep")), version=version).stdout
    assert "configmap/extra pruned" in out.splitlines(), out
    names = kubectl("get", "cm", "-l", "app=prune", "-n", namespace, "-o", "name", version=version).stdout.split()
    assert names == ["configmap/keep"]
