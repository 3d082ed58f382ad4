"""[sig-apps] StatefulSet rows whose pods really run, written from their upstream
descriptions: rolling updates and rollbacks, canary and phased updates with a
partition, ordered scaling that halts on an unhealthy pod, and burst scaling
that does not. Readiness is toggled as upstream toggles it (statefulsets.py)."""
from __future__ import annotations

from tests.conformance import statefulsets as sts
from tests.conformance.rows import row
from tests.conformance.support import Watcher, wait_for

LABELS = {"foo": "bar", "baz": "blah"}
SELECTOR = "foo=bar,baz=blah"


def _all_on(pods, image: str, revision: str) -> bool:
    return all(p.spec.containers[0].image == image and p.metadata.labels[sts.REVISION_LABEL] == revision
               for p in pods)


@row("StatefulSet, Rolling Update", release="v1.9", needs="CTRL+POD",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality "
              "should perform rolling updates and roll backs of template modifications")
def test_statefulset_rolling_update_and_rollback(apps, core, ns, kubectl):
    sts.headless_service(core, ns, LABELS)
    ss = apps.create_namespaced_stateful_set(ns, sts.new_statefulset("ss2", LABELS, 3))
    sts.wait_running_and_ready(apps, core, ss, 3)
    ss = sts.wait_for_status(apps, ss)
    current, updated = ss.status.current_revision, ss.status.update_revision
    assert current == updated and current.startswith("ss2-")
    pods = sts.pods_of(core, ss)
    assert all(p.metadata.labels[sts.REVISION_LABEL] == current for p in pods)

    sts.break_probe(kubectl, pods[1])
    sts.wait_pod(core, ss, pods[1].metadata.name, ready=False)
    ss = sts.update(apps, ss, sts.set_image(sts.NEW_IMAGE))
    ss = sts.wait_for_status(apps, ss)  # "Creating a new revision"
    current, updated = ss.status.current_revision, ss.status.update_revision
    assert current != updated

    # "Updating Pods in reverse ordinal order", once the broken pod is ready again
    sts.restore_probe(kubectl, sts.pods_of(core, ss)[1])
    sts.wait_pod(core, ss, pods[1].metadata.name, ready=True)
    ss, pods = sts.wait_rolling_update(apps, core, ss)
    assert ss.status.current_revision == updated
    assert _all_on(pods, sts.NEW_IMAGE, updated)

    # "Rolling back to a previous revision": the old template is the old revision again
    sts.break_probe(kubectl, pods[1])
    sts.wait_pod(core, ss, pods[1].metadata.name, ready=False)
    prior = current
    ss = sts.update(apps, ss, sts.set_image(sts.IMAGE))
    ss = sts.wait_for_status(apps, ss)
    current, updated = ss.status.current_revision, ss.status.update_revision
    assert updated == prior and current != updated
    sts.restore_probe(kubectl, sts.pods_of(core, ss)[1])
    sts.wait_pod(core, ss, pods[1].metadata.name, ready=True)
    ss, pods = sts.wait_rolling_update(apps, core, ss)
    assert ss.status.current_revision == prior
    assert _all_on(pods, sts.IMAGE, prior)


@row("StatefulSet, Rolling Update with Partition", release="v1.9", needs="CTRL+POD",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality "
              "should perform canary updates and phased rolling updates of template modifications")
def test_statefulset_canary_and_phased_rolling_update(apps, core, ns):
    sts.headless_service(core, ns, LABELS)
    body = sts.new_statefulset("ss2", LABELS, 3)
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}
    ss = apps.create_namespaced_stateful_set(ns, body)
    sts.wait_running_and_ready(apps, core, ss, 3)
    ss = sts.wait_for_status(apps, ss)
    current, updated = ss.status.current_revision, ss.status.update_revision
    assert current == updated
    assert all(p.metadata.labels[sts.REVISION_LABEL] == current for p in sts.pods_of(core, ss))

    ss = sts.wait_for_status(apps, sts.update(apps, ss, sts.set_image(sts.NEW_IMAGE)))
    current, updated = ss.status.current_revision, ss.status.update_revision
    assert current != updated
    # "Not applying an update when the partition is greater than the number of replicas"
    assert _all_on(sts.pods_of(core, ss), sts.IMAGE, current)

    def check(ss, pods):
        partition = ss.spec.update_strategy.rolling_update.partition
        for i, p in enumerate(pods):
            want = (sts.IMAGE, current) if i < partition else (sts.NEW_IMAGE, updated)
            assert (p.spec.containers[0].image, p.metadata.labels[sts.REVISION_LABEL]) == want, p.metadata.name

    # "Performing a canary update": the highest ordinal only
    ss, pods = sts.wait_partitioned_update(apps, core, sts.update(apps, ss, sts.set_partition(2)))
    check(ss, pods)

    # "Restoring Pods to the correct revision when they are deleted"
    gone = {pods[0].metadata.uid, pods[2].metadata.uid}
    for i in (0, 2):
        core.delete_namespaced_pod(pods[i].metadata.name, ns)
    wait_for(lambda: gone.isdisjoint(p.metadata.uid for p in sts.pods_of(core, ss)), timeout=sts.TIMEOUT,
             what="the deleted pods replaced")
    ss, pods = sts.wait_partitioned_update(apps, core, ss)
    check(ss, pods)

    # "Performing a phased rolling update": the partition lowered one ordinal at a time
    for partition in (1, 0):
        ss, pods = sts.wait_partitioned_update(apps, core, sts.update(apps, ss, sts.set_partition(partition)))
        check(ss, pods)
    assert ss.status.current_revision == updated


def _watch_pods(core, ns: str, resource_version: str) -> Watcher:
    return Watcher(core.list_namespaced_pod, namespace=ns, label_selector=SELECTOR,
                   resource_version=resource_version)


def _order_of(watcher: Watcher, event_type: str, names: list[str]) -> list[str]:
    """The names, in the order their first `event_type` events came."""
    seen: list[str] = []
    while len(seen) < len(names):
        kind, obj = watcher.next(timeout=sts.TIMEOUT)
        name = obj["metadata"]["name"]
        if kind == event_type and name in names and name not in seen:
            seen.append(name)
    return seen


def _confirm_pod_count_stays(apps, core, ss, count: int) -> None:
    """The controller saw the new replica count and, for a while after, the pods stay as they were
    (upstream's confirmStatefulPodCount, hard)."""
    sts.wait_for_status(apps, ss)
    listed = core.list_namespaced_pod(ss.metadata.namespace, label_selector=SELECTOR)
    assert len(listed.items) == count
    watcher = _watch_pods(core, ss.metadata.namespace, listed.metadata.resource_version)
    try:
        watcher.expect_no_event("ADDED", wait=3.0)
        watcher.expect_no_event("DELETED", wait=0.5)
    finally:
        watcher.stop()
    assert len(core.list_namespaced_pod(ss.metadata.namespace, label_selector=SELECTOR).items) == count
    assert all(p.metadata.deletion_timestamp is None
               for p in core.list_namespaced_pod(ss.metadata.namespace, label_selector=SELECTOR).items)


def _scale(apps, ss, replicas: int):
    return apps.patch_namespaced_stateful_set_scale(ss.metadata.name, ss.metadata.namespace,
                                                    {"spec": {"replicas": replicas}})


def _break_all(kubectl, core, ss) -> None:
    for p in sts.pods_of(core, ss):
        sts.break_probe(kubectl, p)


def _restore_all(kubectl, core, ss, scaling_down: bool = False) -> None:
    for p in sts.pods_of(core, ss):
        sts.restore_probe(kubectl, p, gone_ok=scaling_down)


@row("StatefulSet, Scaling", release="v1.9", needs="CTRL+POD",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality "
              "Scaling should happen in predictable order and halt if any stateful pod is unhealthy")
def test_statefulset_scales_in_order_and_halts_on_unhealthy_pods(apps, core, ns, kubectl):
    # watched from the start, as upstream's watch from the list before the set exists (opened now:
    # a watch resumed from an old resourceVersion later may find it compacted away)
    added = _watch_pods(core, ns, core.list_namespaced_pod(ns, label_selector=SELECTOR).metadata.resource_version)
    sts.headless_service(core, ns, LABELS)
    ss = apps.create_namespaced_stateful_set(ns, sts.new_statefulset("ss", LABELS, 1))
    sts.wait_running_and_ready(apps, core, ss, 1)

    # "Confirming that stateful set scale up will halt with unhealthy stateful pod"
    _break_all(kubectl, core, ss)
    sts.wait_running_and_not_ready(core, ss, 1)
    sts.wait_status_ready_replicas(apps, ss, 0)
    _scale(apps, ss, 3)
    _confirm_pod_count_stays(apps, core, ss, 1)

    _restore_all(kubectl, core, ss)
    ss = sts.wait_running_and_ready(apps, core, ss, 3)
    try:
        assert _order_of(added, "ADDED", ["ss-0", "ss-1", "ss-2"]) == ["ss-0", "ss-1", "ss-2"]
    finally:
        added.stop()

    # "Scale down will halt with unhealthy stateful pod"
    deleted = _watch_pods(core, ns, core.list_namespaced_pod(ns, label_selector=SELECTOR).metadata.resource_version)
    _break_all(kubectl, core, ss)
    sts.wait_status_ready_replicas(apps, ss, 0)
    sts.wait_running_and_not_ready(core, ss, 3)
    _scale(apps, ss, 0)
    _confirm_pod_count_stays(apps, core, ss, 3)

    _restore_all(kubectl, core, ss, scaling_down=True)
    try:
        assert _order_of(deleted, "DELETED", ["ss-2", "ss-1", "ss-0"]) == ["ss-2", "ss-1", "ss-0"]
    finally:
        deleted.stop()


@row("StatefulSet, Burst Scaling", release="v1.9", needs="CTRL+POD",
     codename="[sig-apps] StatefulSet Basic StatefulSet functionality "
              "Burst scaling should run to completion even with unhealthy pods")
def test_statefulset_burst_scaling_ignores_unhealthy_pods(apps, core, ns, kubectl):
    sts.headless_service(core, ns, LABELS)
    body = sts.new_statefulset("ss", LABELS, 1)
    body["spec"]["podManagementPolicy"] = "Parallel"
    ss = apps.create_namespaced_stateful_set(ns, body)
    sts.wait_running_and_ready(apps, core, ss, 1)

    # "Confirming that stateful set scale up will not halt with unhealthy stateful pod"
    _break_all(kubectl, core, ss)
    sts.wait_running_and_not_ready(core, ss, 1)
    sts.wait_status_ready_replicas(apps, ss, 0)
    _scale(apps, ss, 3)
    sts.wait_for_status(apps, ss)
    wait_for(lambda: len(sts.pods_of(core, ss)) == 3, timeout=sts.TIMEOUT, what="three pods despite the unhealthy one")

    _restore_all(kubectl, core, ss)
    sts.wait_running_and_ready(apps, core, ss, 3)

    # "Scale down will not halt with unhealthy stateful pod"
    _break_all(kubectl, core, ss)
    sts.wait_status_ready_replicas(apps, ss, 0)
    sts.wait_running_and_not_ready(core, ss, 3)
    _scale(apps, ss, 0)
    wait_for(lambda: not sts.pods_of(core, ss), timeout=sts.TIMEOUT, what="every pod gone despite being unhealthy")
    wait_for(lambda: (apps.read_namespaced_stateful_set_status("ss", ns).status.replicas or 0) == 0,
             timeout=sts.TIMEOUT, what="status.replicas == 0")
