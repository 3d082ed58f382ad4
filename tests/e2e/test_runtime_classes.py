"""RuntimeClasses on real Podman: the handler is the OCI runtime the pod's containers run with."""
from __future__ import annotations

import json
import subprocess

from tests.e2e.conftest import IMAGE


def _phase(c, ns, name):
    return (c.get("pod", name, "-n", ns).get("status") or {}).get("phase")


def test_runtime_class_handler_picks_the_oci_runtime(cluster, ns):
    """A RuntimeClass naming runc runs the pod with runc; one naming
    a runtime this node lacks leaves the pod waiting with the kubelet's FailedCreatePodSandBox."""
    c = cluster
    for name, handler in (("rc-runc", "runc"), ("rc-none", "nope")):
        c.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                                                         "metadata": {"name": f"{ns}-{name}"}, "handler": handler}))

    def pod(name, rc):
        return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
            "runtimeClassName": f"{ns}-{rc}", "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": IMAGE, "command": ["sleep", "3600"]}]}})
    try:
        c.kubectl("apply", "-n", ns, "-f", "-", input=pod("with-runc", "rc-runc"))
        c.kubectl("apply", "-n", ns, "-f", "-", input=pod("with-nope", "rc-none"))
        c.wait_for("with-runc Running", lambda: _phase(c, ns, "with-runc") == "Running", timeout=120)
        cid = c.get("pod", "with-runc", "-n", ns)["status"]["containerStatuses"][0]["containerID"].split("//")[-1]
        runtime = subprocess.run(["podman", "inspect", "--format", "{{.OCIRuntime}}", cid],
                                 capture_output=True, text=True).stdout.strip()
        assert runtime == "runc"
        events = c.wait_for("FailedCreatePodSandBox", lambda: [
            e for e in c.get("events", "-n", ns)["items"]
            if e["involvedObject"]["name"] == "with-nope" and e["reason"] == "FailedCreatePodSandBox"])
        assert events[0]["message"] == ("Failed to create pod sandbox: rpc error: code = Unknown desc = failed to "
                                        'get sandbox runtime: no runtime for "nope" is configured')
        assert _phase(c, ns, "with-nope") == "Pending"
    finally:
        for name in ("rc-runc", "rc-none"):
            c.kubectl("delete", "runtimeclass", f"{ns}-{name}", check=False)
