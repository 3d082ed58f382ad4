"""[sig-apps] DaemonSet and Job rows whose pods really run, written from their
upstream descriptions."""
from __future__ import annotations

from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for

IMAGE = "localhost/busybox"


def _pod_spec(command: list[str], restart: str | None = None) -> dict:
    spec = {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": IMAGE, "command": command}]}
    if restart:
        spec["restartPolicy"] = restart
    return spec


def _daemonset(name: str, labels: dict, command: list[str]) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "spec": {
        "selector": {"matchLabels": labels}, "updateStrategy": {"type": "RollingUpdate"},
        "template": {"metadata": {"labels": labels}, "spec": _pod_spec(command)}}}


def _running(core, ns, selector: str) -> list:
    return [p for p in core.list_namespaced_pod(ns, label_selector=selector).items
            if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]


def _daemon_available(apps, core, ns, name: str, selector: str) -> bool:
    st = apps.read_namespaced_daemon_set_status(name, ns).status
    want = st.desired_number_scheduled or 0
    return want > 0 and (st.number_available or 0) == want and len(_running(core, ns, selector)) == want


@row("DaemonSet-Creation", release="v1.10", needs="CTRL+POD",
     codename="[sig-apps] Daemon set [Serial] should run and stop simple daemon")
def test_daemonset_runs_and_revives(apps, core, ns):
    labels = {"daemonset-name": "daemon-set"}
    apps.create_namespaced_daemon_set(ns, _daemonset("daemon-set", labels, ["sleep", "3600"]))
    wait_for(lambda: _daemon_available(apps, core, ns, "daemon-set", "daemonset-name=daemon-set"), timeout=120,
             what="one running daemon pod per node")
    victim = _running(core, ns, "daemonset-name=daemon-set")[0]
    core.delete_namespaced_pod(victim.metadata.name, ns)
    wait_for(lambda: victim.metadata.name not in {p.metadata.name for p in _running(core, ns, "daemonset-name=daemon-set")}
             and _daemon_available(apps, core, ns, "daemon-set", "daemonset-name=daemon-set"), timeout=120,
             what="the daemon pod revived")


@row("DaemonSet-RollingUpdate", release="v1.10", needs="CTRL+POD",
     codename="[sig-apps] Daemon set [Serial] should update pod when spec was updated and update strategy is RollingUpdate")
def test_daemonset_rolling_update(apps, core, ns):
    labels = {"daemonset-name": "daemon-set"}
    apps.create_namespaced_daemon_set(ns, _daemonset("daemon-set", labels, ["sleep", "3600"]))
    wait_for(lambda: _daemon_available(apps, core, ns, "daemon-set", "daemonset-name=daemon-set"), timeout=120,
             what="the daemon pods running")
    apps.patch_namespaced_daemon_set("daemon-set", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3601"]}]}}}})

    def updated():
        pods = core.list_namespaced_pod(ns, label_selector="daemonset-name=daemon-set").items
        st = apps.read_namespaced_daemon_set_status("daemon-set", ns).status
        return pods and all(p.spec.containers[0].command == ["sleep", "3601"] for p in pods) and \
            (st.updated_number_scheduled or 0) == (st.desired_number_scheduled or 0) and \
            _daemon_available(apps, core, ns, "daemon-set", "daemonset-name=daemon-set")
    wait_for(updated, timeout=120, what="every daemon pod on the new template")


@row("Ensure Pods of an Indexed Job get a unique index.", release="v1.24", needs="CTRL+POD",
     codename="[sig-apps] Job should create pods for an Indexed job with completion indexes and specified hostname")
def test_indexed_job(batch, core, ns):
    batch.create_namespaced_job(ns, {"metadata": {"name": "indexed-job"}, "spec": {
        "parallelism": 2, "completions": 4, "completionMode": "Indexed", "backoffLimit": 6,
        "template": {"spec": _pod_spec(["true"], restart="Never")}}})
    wait_for(lambda: (batch.read_namespaced_job_status("indexed-job", ns).status.succeeded or 0) == 4, timeout=180,
             what="four completions")
    succeeded = [p for p in core.list_namespaced_pod(ns, label_selector="job-name=indexed-job").items
                 if p.status.phase == "Succeeded"]
    indexes = {p.metadata.annotations["batch.kubernetes.io/job-completion-index"] for p in succeeded}
    assert indexes == {"0", "1", "2", "3"}
    for p in succeeded:
        assert p.spec.hostname == f"indexed-job-{p.metadata.annotations['batch.kubernetes.io/job-completion-index']}"
    assert batch.read_namespaced_job_status("indexed-job", ns).status.completed_indexes == "0-3"


@row("Jobs, active pods, graceful termination", release="v1.15", needs="CTRL+POD",
     codename="[sig-apps] Job should delete a job")
def test_job_delete_removes_its_pods(batch, core, ns):
    batch.create_namespaced_job(ns, {"metadata": {"name": "foo"}, "spec": {
        "parallelism": 2, "completions": 4, "backoffLimit": 6,
        "template": {"spec": _pod_spec(["sleep", "1000000"], restart="Never")}}})  # upstream's notTerminate
    wait_for(lambda: len(_running(core, ns, "job-name=foo")) == 2, timeout=120, what="active pods == parallelism")
    # DeleteResourceAndWaitForGC: the Job deleted, then its pods gone through the garbage collector
    batch.delete_namespaced_job("foo", ns, propagation_policy="Background")
    wait_for(lambda: not core.list_namespaced_pod(ns, label_selector="job-name=foo").items, timeout=120,
             what="the Job's pods collected")
    try:
        batch.read_namespaced_job("foo", ns)
        raise AssertionError("the Job is still there")
    except client.ApiException as e:
        assert e.status == 404


@row("Jobs, suspend", release="v1.24", needs="CTRL+POD",
     codename="[sig-apps] Job should delete pods when suspended")
def test_job_suspend_deletes_pods(batch, core, ns):
    batch.create_namespaced_job(ns, {"metadata": {"name": "suspend-false-to-true"}, "spec": {
        "parallelism": 2, "completions": 4, "backoffLimit": 6,
        "template": {"spec": _pod_spec(["sleep", "3600"], restart="Never")}}})
    wait_for(lambda: len(_running(core, ns, "job-name=suspend-false-to-true")) == 2, timeout=120,
             what="two running job pods")
    batch.patch_namespaced_job("suspend-false-to-true", ns, {"spec": {"suspend": True}})
    wait_for(lambda: not core.list_namespaced_pod(ns, label_selector="job-name=suspend-false-to-true").items,
             timeout=120, what="the job's pods deleted")

    def suspended():
        st = batch.read_namespaced_job_status("suspend-false-to-true", ns).status
        return any(c.type == "Suspended" and c.status == "True" for c in (st.conditions or []))
    wait_for(suspended, timeout=30, what="the Suspended condition")


# serve-hostname as upstream's image does it: every HTTP request is answered with the pod's name
SERVE_HOSTNAME = """cat > /serve.sh <<'END'
#!/bin/sh
while read -r h; do h=$(printf %s "$h" | tr -d '\\r'); [ -z "$h" ] && break; done
printf 'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' ${#HOSTNAME} "$HOSTNAME"
END
chmod +x /serve.sh && exec nc -ll -p 9376 -e /serve.sh"""


def _proxied(core, ns: str, pod: str):
    try:
        return core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:9376", ns, "", _preload_content=False)
    except client.ApiException as e:
        if e.status == 503:  # not listening yet
            return None
        raise


@row("Replica Set, run basic image", release="v1.9", needs="CTRL+POD",
     codename="[sig-apps] ReplicaSet should serve a basic image on each replica with a public image")
def test_replicaset_serves_basic_image(apps, core, ns):
    name = "my-hostname-basic-" + ns[-5:]
    labels = {"name": name}
    apps.create_namespaced_replica_set(ns, {"metadata": {"name": name}, "spec": {
        "replicas": 1, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
            "terminationGracePeriodSeconds": 0, "containers": [{
                "name": name, "image": IMAGE, "command": ["sh", "-c", SERVE_HOSTNAME],
                "ports": [{"containerPort": 9376}]}]}}}})
    wait_for(lambda: len(_running(core, ns, f"name={name}")) == 1, timeout=120, what="the replica running")
    for pod in _running(core, ns, f"name={name}"):
        r = wait_for(lambda: _proxied(core, ns, pod.metadata.name), timeout=30, interval=1,
                     what=f"{pod.metadata.name} answering")
        assert r.status == 200 and r.data.decode() == pod.metadata.name


@row("DaemonSet-Rollback", release="v1.10", needs="CTRL+POD",
     codename="[sig-apps] Daemon set [Serial] should rollback without unnecessary restarts")
def test_daemonset_rollback(apps, core, ns):
    labels = {"daemonset-name": "daemon-set"}
    sel = "daemonset-name=daemon-set"
    apps.create_namespaced_daemon_set(ns, _daemonset("daemon-set", labels, ["sleep", "3600"]))
    wait_for(lambda: _daemon_available(apps, core, ns, "daemon-set", sel), timeout=120, what="the daemon pods running")
    good_hash = core.list_namespaced_pod(ns, label_selector=sel).items[0].metadata.labels["controller-revision-hash"]
    # a template whose container never comes up (upstream uses an image that cannot be pulled)
    apps.patch_namespaced_daemon_set("daemon-set", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": IMAGE, "command": ["false"]}]}}}})

    def stuck():
        pods = core.list_namespaced_pod(ns, label_selector=sel).items
        return any(p.metadata.labels["controller-revision-hash"] != good_hash for p in pods) and \
            (apps.read_namespaced_daemon_set_status("daemon-set", ns).status.number_unavailable or 0) > 0
    wait_for(stuck, timeout=120, what="the rollout stuck on a failing pod")
    untouched = {p.metadata.name for p in core.list_namespaced_pod(ns, label_selector=sel).items
                 if p.metadata.labels["controller-revision-hash"] == good_hash}
    apps.patch_namespaced_daemon_set("daemon-set", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}}}})

    def rolled_back():
        pods = core.list_namespaced_pod(ns, label_selector=sel).items
        return pods and all(p.metadata.labels["controller-revision-hash"] == good_hash for p in pods) and \
            _daemon_available(apps, core, ns, "daemon-set", sel)
    wait_for(rolled_back, timeout=120, what="every daemon pod back on the first template")
    # pods that were never updated are kept, not restarted
    assert untouched <= {p.metadata.name for p in core.list_namespaced_pod(ns, label_selector=sel).items}
