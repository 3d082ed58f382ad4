"""Volumes that outlive pods, on real Podman: the local-path provisioner (default
StorageClass, WaitForFirstConsumer) gives a claim a hostPath volume on the node its
first pod lands on; a pod writes, is deleted, a new pod reads the data back (and
cannot write through a readOnly mount); deleting the claim deletes the volume and
its directory. Pods whose claims are missing or cannot bind stay Pending with the
scheduler's words."""
from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import IMAGE, fresh_namespace, running_cluster


@pytest.fixture(scope="module")
def storage_cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e-storage")
    with running_cluster(base, controller_args=["--local-path-dir", str(base / "local-path")]) as c:
        yield c


@pytest.fixture
def ns(storage_cluster):
    with fresh_namespace(storage_cluster) as name:
        yield name


def _pod(name: str, command: str, claim: str = "data", read_only: bool = False) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": IMAGE, "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "v", "mountPath": "/data"},
                                         {"name": "v", "mountPath": "/sub", "subPath": "nested"}]}],
        "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}}]}})


def _phase(c, ns, name):
    return (c.get("pod", name, "-n", ns).get("status") or {}).get("phase")


def test_data_outlives_its_pod_and_goes_with_its_claim(storage_cluster, ns):
    c = storage_cluster
    c.wait_for("the local-path StorageClass", lambda: c.kubectl("get", "sc", "local-path", check=False).returncode == 0)
    sc = c.kubectl("get", "sc").stdout.splitlines()
    assert [line.split()[:5] for line in sc if line.startswith("local-path")] == [
        ["local-path", "(default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer"]]
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}))
    claim = c.get("pvc", "data", "-n", ns)
    assert claim["spec"]["storageClassName"] == "local-path" and claim["status"]["phase"] == "Pending"

    c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("writer", "echo pocketkube > /data/greeting && "
                                                                  "echo deeper > /sub/file"))
    c.wait_for("writer Succeeded", lambda: _phase(c, ns, "writer") == "Succeeded", timeout=120)
    claim = c.get("pvc", "data", "-n", ns)
    assert claim["status"]["phase"] == "Bound"
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == c.node
    pv = c.get("pv", claim["spec"]["volumeName"])
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [c.node]
    path = pv["spec"]["hostPath"]["path"]
    assert open(os.path.join(path, "greeting")).read() == "pocketkube\n"
    assert open(os.path.join(path, "nested", "file")).read() == "deeper\n"
    row = c.kubectl("get", "pvc", "data", "-n", ns).stdout.splitlines()[1].split()
    assert row[:6] == ["data", "Bound", pv["metadata"]["name"], "64Mi", "RWO", "local-path"]

    c.kubectl("delete", "pod", "writer", "-n", ns)
    c.kubectl("apply", "-n", ns, "-f", "-", input=_pod(
        "reader", "cat /data/greeting /sub/file; touch /data/other 2>/dev/null || echo read-only", read_only=True))
    c.wait_for("reader Succeeded", lambda: _phase(c, ns, "reader") == "Succeeded", timeout=120)
    assert c.kubectl("logs", "reader", "-n", ns).stdout == "pocketkube\ndeeper\nread-only\n"

    c.kubectl("delete", "pod", "reader", "-n", ns)
    c.kubectl("delete", "pvc", "data", "-n", ns, "--timeout=60s", timeout=90)
    c.wait_for("the volume deleted", lambda: c.kubectl("get", "pv", pv["metadata"]["name"],
                                                       check=False).returncode != 0, timeout=60)
    assert not os.path.exists(path)


def test_pods_wait_for_claims_with_the_schedulers_words(storage_cluster, ns):
    c = storage_cluster
    c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("no-claim", "true", claim="missing"))
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "static"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "",
                 "resources": {"requests": {"storage": "1Gi"}}}}))
    c.kubectl("apply", "-n", ns, "-f", "-", input=_pod("unbound", "true", claim="static"))

    def scheduled_message(name):
        conds = (c.get("pod", name, "-n", ns).get("status") or {}).get("conditions") or []
        return next((x.get("message") for x in conds if x["type"] == "PodScheduled" and x["status"] == "False"), None)
    assert c.wait_for("no-claim unschedulable", lambda: scheduled_message("no-claim")) == (
        '0/1 nodes are available: persistentvolumeclaim "missing" not found. '
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..")
    assert c.wait_for("unbound unschedulable", lambda: scheduled_message("unbound")) == (
        "0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..")
    events = c.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=static").stdout
    assert "no persistent volumes available for this claim and no storage class is set" in events


def test_generic_ephemeral_volume_lives_and_dies_with_its_pod(storage_cluster, ns):
    c = storage_cluster
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "eph"}, "spec": {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": IMAGE, "command": ["sh", "-c", "echo scratch > /s/f && cat /s/f"],
                            "volumeMounts": [{"name": "scratch", "mountPath": "/s"}]}],
            "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
                "metadata": {"labels": {"kind": "scratch"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}}}]}}))
    c.wait_for("eph Succeeded", lambda: _phase(c, ns, "eph") == "Succeeded", timeout=120)
    assert c.kubectl("logs", "eph", "-n", ns).stdout == "scratch\n"
    claim = c.get("pvc", "eph-scratch", "-n", ns)
    pod = c.get("pod", "eph", "-n", ns)
    assert claim["metadata"]["labels"] == {"kind": "scratch"} and claim["status"]["phase"] == "Bound"
    assert claim["metadata"]["ownerReferences"][0]["uid"] == pod["metadata"]["uid"]
    path = c.get("pv", claim["spec"]["volumeName"])["spec"]["hostPath"]["path"]
    c.kubectl("delete", "pod", "eph", "-n", ns)
    c.wait_for("the claim collected with its pod", lambda: c.kubectl(
        "get", "pvc", "eph-scratch", "-n", ns, check=False).returncode != 0, timeout=60)
    c.wait_for("the volume's directory removed", lambda: not os.path.exists(path), timeout=60)

