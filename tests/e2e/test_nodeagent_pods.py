"""Pods under Podman reach the states `kubectl get pods` shows on a real cluster."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import pod_manifest

pytestmark = pytest.mark.podman

IMAGE = "localhost/busybox"


def _table(cluster, ns: str) -> dict[str, list[str]]:
    out = cluster.kubectl("get", "pods", "-n", ns, "--no-headers").stdout
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}


def test_run_reaches_running_with_upstream_shaped_status(cluster, ns):
    cluster.kubectl("run", "web", "-n", ns, f"--image={IMAGE}", "--labels=app=web",
                    "--", "sh", "-c", "echo started; exec httpd -f -p 8080")
    pod = cluster.wait_for("web Running", lambda: (lambda p: p if p["status"].get("phase") == "Running" and
                           p["status"]["containerStatuses"][0]["ready"] else None)(cluster.get("pod", "web", "-n", ns)))
    st = pod["status"]
    assert pod["spec"]["nodeName"] == cluster.node
    assert st["podIP"] and st["podIPs"] == [{"ip": st["podIP"]}] and st["hostIP"]
    assert st["qosClass"] == "BestEffort" and st["startTime"]
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds == {"PodScheduled": "True", "PodReadyToStartContainers": "True", "Initialized": "True",
                     "Ready": "True", "ContainersReady": "True"}
    cs = st["containerStatuses"][0]
    assert cs["name"] == "web" and cs["restartCount"] == 0 and cs["started"] is True
    assert cs["containerID"].startswith("podman://") and cs["imageID"]
    assert "running" in cs["state"] and cs["state"]["running"]["startedAt"]
    row = _table(cluster, ns)["web"]
    assert row[:3] == ["1/1", "Running", "0"]
    # the Node the agent registered
    node = cluster.get("node", cluster.node)
    info = node["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"].startswith("podman://4.")
    assert info["kubeletVersion"].startswith("v1.33.") and info["architecture"] and info["kernelVersion"]
    assert node["status"]["capacity"]["pods"] == "110"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == cluster.node
    assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] > 0
    assert any(IMAGE in n for img in node["status"]["images"] for n in img["names"])
    lease = cluster.get("lease", cluster.node, "-n", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == cluster.node


def _c(command: list[str], **fields) -> dict:
    return {"name": "c", "image": IMAGE, "command": command, **fields}


def _init(command: list[str], **fields) -> dict:
    return {"name": "init", "image": IMAGE, "command": command, **fields}


def _w() -> list[dict]:   # a fresh list each time: a shared one would dump as a YAML alias
    return [{"name": "w", "mountPath": "/w"}]


STATUS_PODS = "---\n".join([
    pod_manifest("completes", _c(["true"])),
    pod_manifest("fails", _c(["sh", "-c", "exit 3"])),
    pod_manifest("crashes", _c(["sh", "-c", "exit 1"]), restart_policy=None),
    pod_manifest("noimage", {"name": "c", "image": "localhost/no-such-image:1"}, restart_policy=None),
    pod_manifest("initwaits", _c(["sleep", "3600"]), restart_policy=None,
                 initContainers=[_init(["sleep", "3600"])]),
    pod_manifest("initdone", _c(["sh", "-c", "cat /w/ok; sleep 3600"], volumeMounts=_w()), restart_policy=None,
                 initContainers=[_init(["sh", "-c", "echo ok > /w/ok"], volumeMounts=_w())],
                 volumes=[{"name": "w", "emptyDir": {}}]),
])


def test_statuses_as_kubectl_shows_them(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=STATUS_PODS)
    want = {"completes": ("0/1", "Completed"), "fails": ("0/1", "Error"), "crashes": ("0/1", "CrashLoopBackOff"),
            "noimage": ("0/1", ("ErrImagePull", "ImagePullBackOff")), "initwaits": ("0/1", "Init:0/1"),
            "initdone": ("1/1", "Running")}

    def matches():
        table = _table(cluster, ns)
        for name, (ready, status) in want.items():
            row = table.get(name)
            statuses = status if isinstance(status, tuple) else (status,)
            if not row or row[0] != ready or row[1] not in statuses:
                return None
        return table
    table = cluster.wait_for("every pod in its expected state", matches, timeout=60)
    assert int(table["crashes"][2]) >= 1
    fails = cluster.get("pod", "fails", "-n", ns)["status"]
    assert fails["phase"] == "Failed"
    term = fails["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 3 and term["reason"] == "Error"
    assert cluster.get("pod", "completes", "-n", ns)["status"]["phase"] == "Succeeded"
    crash = cluster.get("pod", "crashes", "-n", ns)["status"]["containerStatuses"][0]
    assert crash["lastState"]["terminated"]["exitCode"] == 1
    assert crash["state"].get("waiting", {}).get("reason") in ("CrashLoopBackOff", None)
    assert cluster.kubectl("logs", "initdone", "-n", ns).stdout == "ok\n"
    events = cluster.kubectl("get", "events", "-n", ns, "-o", "json").stdout
    for reason in ("Pulled", "Created", "Started", "BackOff", "Failed"):
        assert f'"reason": "{reason}"' in events, reason


def test_deleting_shows_terminating_and_honours_the_grace_period(cluster, ns, tmp_path):
    """The preStop hook runs, then the container gets SIGTERM (its trap records
    both on a hostPath), not SIGKILL; the pod shows Terminating meanwhile."""
    host_dir = tmp_path / "grace"
    host_dir.mkdir()
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: graceful}}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: c
    image: {IMAGE}
    command: ["sh", "-c", "trap 'echo got-term >> /out/log; sleep 2; exit 0' TERM; while true; do sleep 0.2; done"]
    lifecycle:
      preStop: {{exec: {{command: ["sh", "-c", "echo pre-stop >> /out/log"]}}}}
    volumeMounts: [{{name: out, mountPath: /out}}]
  volumes: [{{name: out, hostPath: {{path: {host_dir}, type: Directory}}}}]
"""
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    cluster.wait_for("graceful Running", lambda: _table(cluster, ns).get("graceful", [None, None])[1] == "Running")
    cluster.kubectl("delete", "pod", "graceful", "-n", ns, "--wait=false")
    cluster.wait_for("Terminating", lambda: _table(cluster, ns).get("graceful", [None, None])[1] == "Terminating",
                     interval=0.1)
    cluster.wait_for("pod gone", lambda: "graceful" not in _table(cluster, ns))
    assert (host_dir / "log").read_text() == "pre-stop\ngot-term\n"


FEATURE_PODS = f"""
apiVersion: v1
kind: Pod
metadata: {{name: features}}
spec:
  terminationGracePeriodSeconds: 1
  hostAliases: [{{ip: "1.2.3.4", hostnames: ["alias.example"]}}]
  securityContext: {{runAsUser: 1000, runAsGroup: 3000}}
  containers:
  - name: c
    image: {IMAGE}
    command: ["sh", "-c", "id; echo mem=$LIM_MEM; grep alias /etc/hosts; touch /ro 2>&1; pwd; sleep 3600"]
    workingDir: /tmp
    env: [{{name: LIM_MEM, valueFrom: {{resourceFieldRef: {{resource: limits.memory, divisor: 1Mi}}}}}}]
    resources: {{limits: {{memory: 64Mi, cpu: 500m}}}}
    securityContext: {{readOnlyRootFilesystem: true, seccompProfile: {{type: Unconfined}}}}
    volumeMounts: [{{name: tmp, mountPath: /tmp}}]
  volumes: [{{name: tmp, emptyDir: {{medium: Memory}}}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: hostnet}}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers: [{{name: c, image: {IMAGE}, command: ["sleep", "3600"]}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: oom}}
spec:
  restartPolicy: Never
  containers:
  - {{name: c, image: {IMAGE}, command: ["sh", "-c", "x=a; while true; do x=$x$x; done"],
     resources: {{limits: {{memory: 20Mi}}}}}}
"""


def test_security_context_limits_host_network_and_oom(cluster, ns):
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=FEATURE_PODS)
    want = {"features": "Running", "hostnet": "Running", "oom": "OOMKilled"}
    cluster.wait_for("features, hostnet Running and oom OOMKilled", lambda: all(
        _table(cluster, ns).get(n, [None, None])[1] == s for n, s in want.items()), timeout=60)
    logs = cluster.wait_for("features' output", lambda: (lambda s: s if "/tmp" in s else None)(
        cluster.kubectl("logs", "features", "-n", ns).stdout))
    assert logs.splitlines() == ["uid=1000(1000) gid=3000(3000) groups=3000(3000)", "mem=64",
                                 "1.2.3.4\talias.example", "touch: /ro: Read-only file system", "/tmp"]
    features = cluster.get("pod", "features", "-n", ns)
    assert features["status"]["qosClass"] == "Guaranteed"
    hostnet = cluster.get("pod", "hostnet", "-n", ns)["status"]
    assert hostnet["podIP"] == hostnet["hostIP"]
    # seccomp: none given is RuntimeDefault (2: filtered; --seccomp-default is on by
    # default here), Unconfined asked for is 0
    for pod, mode in (("features", "0"), ("hostnet", "2")):
        status = cluster.kubectl("exec", pod, "-n", ns, "--", "cat", "/proc/1/status").stdout
        assert f"Seccomp:\t{mode}" in status.splitlines(), (pod, status)
    term = cluster.get("pod", "oom", "-n", ns)["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
