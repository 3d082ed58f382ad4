"""Deployments and Jobs on real pods under Podman: a rollout to a new image that
never drops below replicas - maxUnavailable available pods, `rollout undo`, a
Job running 6 completions 3 at a time, and a failing Job stopping at its
backoffLimit."""
from __future__ import annotations

import json
import threading

IMAGE_A = "localhost/busybox:latest"
IMAGE_B = "localhost/busybox"  # the same image by another reference: a new template all the same


def _deploy(c, ns, name="web"):
    return c.get("deployment", name, "-n", ns)


def test_deployment_rolls_to_a_new_image_and_back(cluster, ns):
    c = cluster
    c.kubectl("create", "deployment", "web", f"--image={IMAGE_A}", "--replicas=3", "-n", ns, "--", "sleep", "3600")
    c.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=180s", timeout=200)
    d = _deploy(c, ns)
    assert d["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}

    lowest, stop = [3], threading.Event()

    def watch_availability():  # maxUnavailable 25% of 3 rounds down to 0: never fewer than 3 available
        while not stop.is_set():
            st = json.loads(c.kubectl("get", "deployment", "web", "-n", ns, "-o", "json").stdout)["status"]
            lowest[0] = min(lowest[0], st.get("availableReplicas", 0))
            stop.wait(0.2)
    sampler = threading.Thread(target=watch_availability, daemon=True)
    sampler.start()
    try:
        c.kubectl("set", "image", "deployment/web", f"busybox={IMAGE_B}", "-n", ns)
        c.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=180s", timeout=200)
    finally:
        stop.set()
        sampler.join()
    assert lowest[0] >= 3, f"availability dropped to {lowest[0]} during the rollout"
    pods = [p for p in c.get("pods", "-n", ns, "-l", "app=web")["items"] if not p["metadata"].get("deletionTimestamp")]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {IMAGE_B}
    assert all(p["status"]["phase"] == "Running" for p in pods)
    history = c.kubectl("rollout", "history", "deployment/web", "-n", ns).stdout
    assert [ln.split()[0] for ln in history.splitlines()[2:] if ln.strip()] == ["1", "2"]

    c.kubectl("rollout", "undo", "deployment/web", "-n", ns)
    c.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=180s", timeout=200)
    d = _deploy(c, ns)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE_A
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    c.wait_for("only the old image's pods left", lambda: {
        p["spec"]["containers"][0]["image"] for p in c.get("pods", "-n", ns, "-l", "app=web")["items"]} == {IMAGE_A},
        timeout=120)


def _job(name: str, command: list[str], **spec) -> str:
    return json.dumps({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {**spec, "template": {
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "c", "image": IMAGE_A, "command": command}]}}}})


def test_job_with_parallelism_3_completes_6_and_a_failing_one_stops(cluster, ns):
    c = cluster
    c.kubectl("create", "-n", ns, "-f", "-", input=_job("six", ["sh", "-c", "sleep 1"], completions=6, parallelism=3))
    c.kubectl("create", "-n", ns, "-f", "-", input=_job("bad", ["false"], backoffLimit=1))
    c.kubectl("wait", "--for=condition=complete", "job/six", "-n", ns, "--timeout=240s", timeout=260)
    job = c.get("job", "six", "-n", ns)
    assert job["status"]["succeeded"] == 6 and not job["status"].get("failed")
    pods = c.get("pods", "-n", ns, "-l", "job-name=six")["items"]
    assert len(pods) == 6 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert not any(p["metadata"].get("finalizers") for p in pods)
    table = c.kubectl("get", "job", "six", "-n", ns).stdout.splitlines()
    assert table[1].split()[1:3] == ["Complete", "6/6"]

    c.kubectl("wait", "--for=condition=failed", "job/bad", "-n", ns, "--timeout=240s", timeout=260)
    bad = c.get("job", "bad", "-n", ns)
    assert bad["status"]["failed"] == 2  # the first try and one retry (backoffLimit 1)
    assert any(x["type"] == "Failed" and x["reason"] == "BackoffLimitExceeded" for x in bad["status"]["conditions"])
