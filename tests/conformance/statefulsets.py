"""What upstream's StatefulSet e2e helpers do, for the StatefulSet rows.

Upstream's pods run httpd with an HTTP readiness probe on /index.html and the
test breaks readiness by moving that file away inside the pod (kubectl exec),
restoring it by moving it back. Here busybox httpd serves /www the same way.
"""
from __future__ import annotations

from kubernetes import client

from tests.conformance.support import wait_for

IMAGE = "localhost/busybox"
NEW_IMAGE = "localhost/busybox:latest"  # the same bytes under another name: a template modification
REVISION_LABEL = "controller-revision-hash"
TIMEOUT = 120


def headless_service(core, ns: str, labels: dict, name: str = "test") -> None:
    core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
        "clusterIP": "None", "selector": labels, "ports": [{"name": "http", "port": 80}]}})


def new_statefulset(name: str, labels: dict, replicas: int, service: str = "test") -> dict:
    """Upstream's NewStatefulSet with setHTTPProbe: a webserver whose readiness is /index.html."""
    return {"metadata": {"name": name, "labels": labels}, "spec": {
        "replicas": replicas, "serviceName": service, "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "webserver", "image": IMAGE,
                            "command": ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && "
                                        "exec httpd -f -p 80 -h /www"],
                            "readinessProbe": {"httpGet": {"path": "/index.html", "port": 80},
                                               "periodSeconds": 1, "successThreshold": 1, "failureThreshold": 1}}]}}}}


def pods_of(core, ss) -> list:
    """The set's pods in ordinal order (upstream's GetPodList + SortStatefulPods)."""
    sel = ",".join(f"{k}={v}" for k, v in ss.spec.selector.match_labels.items())
    pods = core.list_namespaced_pod(ss.metadata.namespace, label_selector=sel).items
    return sorted(pods, key=lambda p: int(p.metadata.name.rsplit("-", 1)[1]))


def _ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def _running_and_ready(pod) -> bool:
    return pod.status.phase == "Running" and _ready(pod) and pod.metadata.deletion_timestamp is None


def wait_running_and_ready(apps, core, ss, n: int):
    def done():
        pods = pods_of(core, ss)
        return len(pods) == n and all(_running_and_ready(p) for p in pods)
    wait_for(done, timeout=TIMEOUT, what=f"{n} stateful pods running and ready")
    return apps.read_namespaced_stateful_set(ss.metadata.name, ss.metadata.namespace)


def wait_running_and_not_ready(core, ss, n: int) -> None:
    def done():
        pods = pods_of(core, ss)
        return len(pods) == n and all(p.status.phase == "Running" and not _ready(p) for p in pods)
    wait_for(done, timeout=TIMEOUT, what=f"{n} stateful pods running and not ready")


def wait_pod(core, ss, name: str, ready: bool) -> None:
    def done():
        try:
            pod = core.read_namespaced_pod(name, ss.metadata.namespace)
        except client.ApiException:
            return False
        return pod.status.phase == "Running" and _ready(pod) == ready
    wait_for(done, timeout=TIMEOUT, what=f"{name} {'ready' if ready else 'not ready'}")


def wait_status_ready_replicas(apps, ss, n: int) -> None:
    wait_for(lambda: (apps.read_namespaced_stateful_set_status(ss.metadata.name, ss.metadata.namespace)
                      .status.ready_replicas or 0) == n, timeout=TIMEOUT, what=f"status.readyReplicas == {n}")


def wait_for_status(apps, ss):
    """The set once the controller has seen its latest generation (upstream's waitForStatus)."""
    def seen():
        got = apps.read_namespaced_stateful_set(ss.metadata.name, ss.metadata.namespace)
        return got if (got.status.observed_generation or 0) >= got.metadata.generation else None
    return wait_for(seen, timeout=TIMEOUT, what="the controller to observe the set")


def break_probe(kubectl, pod) -> None:
    kubectl("exec", "-n", pod.metadata.namespace, pod.metadata.name, "--",
            "sh", "-c", "mv -v /www/index.html /tmp/ || true")


def restore_probe(kubectl, pod, gone_ok: bool = False) -> None:
    """Readiness back. `gone_ok`: while scaling down, restoring one pod lets the controller
    delete the next, which may be gone before its own turn comes (upstream only outruns that)."""
    done = kubectl("exec", "-n", pod.metadata.namespace, pod.metadata.name, "--",
                   "sh", "-c", "mv -v /tmp/index.html /www/ || true", check=not gone_ok)
    if done.returncode != 0 and "NotFound" not in done.stderr:
        raise AssertionError(f"restoring {pod.metadata.name}'s probe failed: {done.stderr}")


def update(apps, ss, mutate):
    """updateStatefulSetWithRetries: read, change, write, again on a conflict."""
    for _ in range(10):
        cur = apps.read_namespaced_stateful_set(ss.metadata.name, ss.metadata.namespace)
        mutate(cur)
        try:
            return apps.replace_namespaced_stateful_set(cur.metadata.name, cur.metadata.namespace, cur)
        except client.ApiException as e:
            if e.status != 409:
                raise
    raise AssertionError("the StatefulSet kept conflicting")


def set_image(image: str):
    def mutate(cur):
        cur.spec.template.spec.containers[0].image = image
    return mutate


def set_partition(partition: int):
    def mutate(cur):
        cur.spec.update_strategy = client.V1StatefulSetUpdateStrategy(
            type="RollingUpdate", rolling_update=client.V1RollingUpdateStatefulSetStrategy(partition=partition))
    return mutate


def wait_rolling_update(apps, core, ss):
    """Until currentRevision == updateRevision with every pod there (upstream's waitForRollingUpdate)."""
    def done():
        got = apps.read_namespaced_stateful_set(ss.metadata.name, ss.metadata.namespace)
        pods = pods_of(core, got)
        if len(pods) < got.spec.replicas or (got.status.observed_generation or 0) < got.metadata.generation:
            return None
        return (got, pods) if got.status.update_revision == got.status.current_revision else None
    return wait_for(done, timeout=TIMEOUT, what="the rolling update to complete")


def wait_partitioned_update(apps, core, ss):
    """Until every pod at or above the partition is on the update revision and all are ready
    (upstream's waitForPartitionedRollingUpdate)."""
    partition = ss.spec.update_strategy.rolling_update.partition
    if partition <= 0:
        return wait_rolling_update(apps, core, ss)

    def done():
        got = apps.read_namespaced_stateful_set(ss.metadata.name, ss.metadata.namespace)
        pods = pods_of(core, got)
        if len(pods) < got.spec.replicas or (got.status.observed_generation or 0) < got.metadata.generation:
            return None
        if (got.status.ready_replicas or 0) < got.spec.replicas or not all(_running_and_ready(p) for p in pods):
            return None
        ok = all(p.metadata.labels.get(REVISION_LABEL) == got.status.update_revision
                 for i, p in enumerate(pods) if i >= partition)
        return (got, pods) if ok else None
    return wait_for(done, timeout=TIMEOUT, what="the partitioned rolling update")
