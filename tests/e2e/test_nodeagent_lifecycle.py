"""Probes, live volume updates, and a node agent restart that leaves pods alone."""
from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import run_podman

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


def podman_containers(fragment: str) -> list[str]:
    names = run_podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    return [n for n in names if fragment in n]


def _pod(cluster, ns, name):
    return cluster.get("pod", name, "-n", ns)


def test_liveness_failure_restarts_and_readiness_gates_ready(cluster, ns):
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: probed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {IMAGE}
    command: ["sh", "-c", "touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600"]
    livenessProbe:
      exec: {{command: ["test", "-f", "/tmp/alive"]}}
      periodSeconds: 1
      failureThreshold: 1
    readinessProbe:
      exec: {{command: ["test", "-f", "/tmp/alive"]}}
      periodSeconds: 1
"""
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    st = cluster.wait_for("a liveness restart", lambda: (lambda cs: cs if cs and cs[0]["restartCount"] >= 1 else None)(
        _pod(cluster, ns, "probed")["status"].get("containerStatuses")), timeout=60)
    assert st[0]["lastState"]["terminated"]["containerID"] != st[0].get("containerID")
    events = json.loads(cluster.kubectl("get", "events", "-n", ns, "-o", "json").stdout)["items"]
    reasons = {(e["reason"], e["message"].split(":")[0]) for e in events}
    assert ("Unhealthy", "Liveness probe failed") in reasons
    assert any(e["reason"] == "Killing" and "failed liveness probe" in e["message"] for e in events)


def test_configmap_change_reaches_the_mounted_volume(cluster, ns):
    cluster.kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=greeting=hello")
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: reader}}
spec:
  containers:
  - name: c
    image: {IMAGE}
    command: ["sleep", "3600"]
    env:
    - name: FROM_CM
      valueFrom: {{configMapKeyRef: {{name: settings, key: greeting}}}}
    - name: ME
      valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
    - name: BOTH
      value: "$(ME)-$(FROM_CM)"
    volumeMounts: [{{name: cfg, mountPath: /etc/cfg}}, {{name: info, mountPath: /etc/info}}]
  volumes:
  - name: cfg
    configMap: {{name: settings}}
  - name: info
    downwardAPI: {{items: [{{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}]}}
"""
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    cluster.wait_for("reader Running", lambda: _pod(cluster, ns, "reader")["status"].get("phase") == "Running")

    def sh(cmd: str) -> str:
        return cluster.kubectl("exec", "reader", "-n", ns, "--", "sh", "-c", cmd).stdout
    assert sh("cat /etc/cfg/greeting") == "hello"
    assert sh("echo $BOTH") == "reader-hello\n"
    cluster.kubectl("patch", "configmap", "settings", "-n", ns, "-p", '{"data":{"greeting":"bonjour"}}')
    cluster.wait_for("the new value in the volume", lambda: sh("cat /etc/cfg/greeting") == "bonjour", timeout=30)
    # the service account volume admission adds: a token the API server signed, its CA, the namespace
    assert sh("ls /var/run/secrets/kubernetes.io/serviceaccount/").split() == ["ca.crt", "namespace", "token"]
    assert sh("cat /var/run/secrets/kubernetes.io/serviceaccount/namespace") == ns
    assert sh("cut -c1-3 /var/run/secrets/kubernetes.io/serviceaccount/token") == "eyJ\n"
    assert "KUBERNETES_SERVICE_HOST=" in sh("env")


def test_agent_restart_adopts_running_containers(cluster, ns):
    cluster.kubectl("run", "steady", "-n", ns, f"--image={IMAGE}", "--", "sleep", "3600")
    before = cluster.wait_for("steady Running", lambda: (lambda p: p if p["status"].get("phase") == "Running"
                              else None)(_pod(cluster, ns, "steady")))["status"]["containerStatuses"][0]
    cluster.kubectl("run", "doomed", "-n", ns, f"--image={IMAGE}", "--", "sleep", "3600")
    cluster.wait_for("doomed Running", lambda: _pod(cluster, ns, "doomed")["status"].get("phase") == "Running")
    cluster.agent.stop(signal.SIGKILL)
    # deleted while its node agent is away: cleaned up when the agent returns
    cluster.kubectl("delete", "pod", "doomed", "-n", ns, "--grace-period=0", "--force")
    cluster.agent.start()
    cluster.wait_node_ready()
    cluster.wait_for("doomed's containers removed", lambda: not podman_containers(f"{ns}_doomed_"), timeout=60)
    cluster.kubectl("run", "probe-after", "-n", ns, f"--image={IMAGE}", "--", "sleep", "3600")
    cluster.wait_for("probe-after Running", lambda: _pod(cluster, ns, "probe-after")["status"].get("phase")
                     == "Running")
    after = _pod(cluster, ns, "steady")["status"]["containerStatuses"][0]
    assert after["containerID"] == before["containerID"]
    assert after["restartCount"] == 0
    assert after["state"]["running"]["startedAt"] == before["state"]["running"]["startedAt"]
