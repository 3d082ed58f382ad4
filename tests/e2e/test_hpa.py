"""A HorizontalPodAutoscaler (autoscaling/v2) scales a Deployment up under CPU-burning
pods and back down once they idle and the scale-down window has passed; real Podman,
usage from metrics.k8s.io."""
from __future__ import annotations

import json

from tests.e2e.conftest import IMAGE

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: burn}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: burn}}}}
  template:
    metadata: {{labels: {{app: burn}}}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: burn
        image: {image}
        command: ["sh", "-c", "{command}"]
        resources: {{requests: {{cpu: 100m}}}}
"""
HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: burn}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 5}
"""


def test_hpa_scales_a_deployment_up_under_load_and_down_after_its_window(cluster, ns):
    c = cluster
    c.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT.format(image=IMAGE, command="while true; do :; done"))
    c.kubectl("apply", "-n", ns, "-f", "-", input=HPA)

    def replicas():
        return c.get("deployment", "burn", "-n", ns)["spec"]["replicas"]
    c.wait_for("the HPA to scale up to 3", lambda: replicas() == 3, timeout=150, interval=2)
    hpa = c.get("hpa", "burn", "-n", ns)
    assert hpa["status"]["desiredReplicas"] == 3 and hpa["status"].get("lastScaleTime")
    assert hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] > 50
    active = {cond["type"]: cond["status"] for cond in hpa["status"]["conditions"]}
    assert active == {"AbleToScale": "True", "ScalingActive": "True"}
    shown = c.kubectl("get", "hpa", "burn", "-n", ns).stdout.splitlines()
    assert shown[0].split()[:4] == ["NAME", "REFERENCE", "TARGETS", "MINPODS"], shown
    assert "Deployment/burn" in shown[1] and "/50%" in shown[1], shown

    # the load stops (new, idle pods): down to minReplicas once the 5 s window has passed
    c.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT.format(image=IMAGE, command="sleep 3600"))
    c.wait_for("the HPA to scale down to 1", lambda: replicas() == 1, timeout=180, interval=2)
    events = json.loads(c.kubectl("get", "events", "-n", ns, "--field-selector",
                                  "involvedObject.kind=HorizontalPodAutoscaler", "-o", "json").stdout)["items"]
    assert {"SuccessfulRescale"} == {e["reason"] for e in events}


def test_hpa_scales_on_memory_utilization(cluster, ns):
    """Each pod holds about 40 MB in a shell variable against a 16Mi request: memory
    utilisation far above the 100% target, so the HPA goes to its maximum of 2."""
    c = cluster
    # `echo` after the sleep keeps the shell (and its variable) alive: a last command is exec'd
    hold = "x=$(head -c 40000000 /dev/zero | tr '\\0' a); sleep 3600; echo ${#x}"
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hold"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "hold"}},
                 "template": {"metadata": {"labels": {"app": "hold"}},
                              "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                                  "name": "hold", "image": IMAGE, "command": ["sh", "-c", hold],
                                  "resources": {"requests": {"memory": "16Mi"}}}]}}}}
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "hold"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hold"},
                 "minReplicas": 1, "maxReplicas": 2,
                 "metrics": [{"type": "Resource", "resource": {
                     "name": "memory", "target": {"type": "Utilization", "averageUtilization": 100}}}]}}
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(deployment))
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(hpa))
    c.wait_for("the HPA to scale up to 2 on memory",
               lambda: c.get("deployment", "hold", "-n", ns)["spec"]["replicas"] == 2, timeout=150, interval=2)
    status = c.get("hpa", "hold", "-n", ns)["status"]
    current = status["currentMetrics"][0]["resource"]
    assert current["name"] == "memory" and current["current"]["averageUtilization"] > 100, status
    assert int(current["current"]["averageValue"]) > 16 * 2 ** 20
