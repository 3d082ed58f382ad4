"""[sig-api-machinery] Watchers (test/e2e/apimachinery/watch.go)."""
from __future__ import annotations

import threading
import time

from tests.conformance.rows import row
from tests.conformance.support import Watcher, todict

LABEL = "watch-this-configmap"


def _watch(core, ns, *values, resource_version=None):
    return Watcher(core.list_namespaced_config_map, namespace=ns,
                   label_selector=f"{LABEL} in ({', '.join(values)})", resource_version=resource_version)


def _cm(name, value):
    return {"metadata": {"name": name, "labels": {LABEL: value}}}


def _mutate(core, ns, name, key, value, label=None):
    cm = core.read_namespaced_config_map(name, ns)
    cm.data = dict(cm.data or {}, **{key: value})
    if label is not None:
        cm.metadata.labels[LABEL] = label
    return todict(core.api_client, core.replace_namespaced_config_map(name, ns, cm))


def _create(core, ns, body):
    return todict(core.api_client, core.create_namespaced_config_map(ns, body))


@row("watch-configmaps-with-multiple-watchers", release="v1.11", needs="API",
     codename="[sig-api-machinery] Watchers should observe add, update, and delete watch notifications on configmaps")
def test_watchers_observe_add_update_delete_on_configmaps(core, ns):
    watch_a = _watch(core, ns, "multiple-watchers-A")
    watch_b = _watch(core, ns, "multiple-watchers-B")
    watch_ab = _watch(core, ns, "multiple-watchers-A", "multiple-watchers-B")

    a = _create(core, ns, _cm("e2e-watch-test-configmap-a", "multiple-watchers-A"))
    watch_a.expect_event("ADDED", a)
    watch_ab.expect_event("ADDED", a)
    watch_b.expect_no_event("ADDED", a)

    for n in ("1", "2"):
        a = _mutate(core, ns, a["metadata"]["name"], "mutation", n)
        watch_a.expect_event("MODIFIED", a)
        watch_ab.expect_event("MODIFIED", a)
        watch_b.expect_no_event("MODIFIED", a)

    core.delete_namespaced_config_map(a["metadata"]["name"], ns)
    watch_a.expect_event("DELETED")
    watch_ab.expect_event("DELETED")
    watch_b.expect_no_event("DELETED")

    b = _create(core, ns, _cm("e2e-watch-test-configmap-b", "multiple-watchers-B"))
    watch_b.expect_event("ADDED", b)
    watch_ab.expect_event("ADDED", b)
    watch_a.expect_no_event("ADDED", b)

    core.delete_namespaced_config_map(b["metadata"]["name"], ns)
    watch_b.expect_event("DELETED")
    watch_ab.expect_event("DELETED")
    watch_a.expect_no_event("DELETED")
    for w in (watch_a, watch_b, watch_ab):
        w.stop()


@row("watch-configmaps-from-resource-version", release="v1.11", needs="API",
     codename="[sig-api-machinery] Watchers should be able to start watching from a specific resource version")
def test_watchers_start_from_specific_resource_version(core, ns):
    cm = _create(core, ns, _cm("e2e-watch-test-resource-version", "from-resource-version"))
    first = _mutate(core, ns, cm["metadata"]["name"], "mutation", "1")
    second = _mutate(core, ns, cm["metadata"]["name"], "mutation", "2")
    core.delete_namespaced_config_map(cm["metadata"]["name"], ns)

    w = _watch(core, ns, "from-resource-version", resource_version=first["metadata"]["resourceVersion"])
    kind, got = w.next()
    assert (kind, got["metadata"]["resourceVersion"]) == ("MODIFIED", second["metadata"]["resourceVersion"])
    kind, got = w.next()
    assert kind == "DELETED"
    w.stop()


@row("watch-configmaps-closed-and-restarted", release="v1.11", needs="API",
     codename="[sig-api-machinery] Watchers should be able to restart watching from the last resource version observed by the previous watch")
def test_watchers_restart_from_last_observed_resource_version(core, ns):
    broken = _watch(core, ns, "watch-closed-and-restarted")
    cm = _create(core, ns, _cm("e2e-watch-test-watch-closed", "watch-closed-and-restarted"))
    _mutate(core, ns, cm["metadata"]["name"], "mutation", "1")
    broken.expect_event("ADDED", cm)
    last = broken.expect_event("MODIFIED")
    broken.stop()

    second = _mutate(core, ns, cm["metadata"]["name"], "mutation", "2")
    restarted = _watch(core, ns, "watch-closed-and-restarted", resource_version=last["metadata"]["resourceVersion"])
    core.delete_namespaced_config_map(cm["metadata"]["name"], ns)
    restarted.expect_event("MODIFIED", second)
    restarted.expect_event("DELETED")
    restarted.stop()


@row("watch-configmaps-label-changed", release="v1.11", needs="API",
     codename="[sig-api-machinery] Watchers should observe an object deletion if it stops meeting the requirements of the selector")
def test_watchers_observe_deletion_when_selector_stops_matching(core, ns):
    w = _watch(core, ns, "label-changed-and-restored")
    cm = _create(core, ns, _cm("e2e-watch-test-label-changed", "label-changed-and-restored"))
    name = cm["metadata"]["name"]
    first = _mutate(core, ns, name, "mutation", "1")
    _mutate(core, ns, name, "mutation", "1", label="wrong-value")
    w.expect_event("ADDED", cm)
    w.expect_event("MODIFIED", first)
    w.expect_event("DELETED")

    second = _mutate(core, ns, name, "mutation", "2")
    w.expect_no_event("MODIFIED", second)

    restored = _mutate(core, ns, name, "mutation", "2", label="label-changed-and-restored")
    third = _mutate(core, ns, name, "mutation", "3")
    core.delete_namespaced_config_map(name, ns)
    w.expect_event("ADDED", restored)
    w.expect_event("MODIFIED", third)
    w.expect_event("DELETED")
    w.stop()


@row("watch-consistency", release="v1.15", needs="API",
     codename="[sig-api-machinery] Watchers should receive events on concurrent watches in same order")
def test_watchers_concurrent_watches_see_same_order(core, ns):
    """A first watch from the current resourceVersion; for a sample of the events it
    sees, another watch started at that event's resourceVersion; all must agree on
    the resourceVersions that follow."""
    start_rv = core.list_namespaced_config_map(ns).metadata.resource_version
    stop = threading.Event()

    def produce():
        # create, modify, delete each of 40 configmaps: 120 events, in a steady stream
        for i in range(40):
            if stop.is_set():
                return
            name = f"cm-{i}"
            core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
            core.patch_namespaced_config_map(name, ns, {"data": {"i": str(i)}})
            core.delete_namespaced_config_map(name, ns)
            time.sleep(0.005)

    first = Watcher(core.list_namespaced_config_map, namespace=ns, resource_version=start_rv)
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()

    seen = [first.next()[1]["metadata"]["resourceVersion"] for _ in range(60)]
    followers = [(i, Watcher(core.list_namespaced_config_map, namespace=ns, resource_version=seen[i]))
                 for i in range(0, 50, 10)]
    seen += [first.next()[1]["metadata"]["resourceVersion"] for _ in range(40)]
    stop.set()
    producer.join()
    for start, follower in followers:
        got = [follower.next()[1]["metadata"]["resourceVersion"] for _ in range(len(seen) - start - 1)]
        assert got == seen[start + 1:], f"watch from {seen[start]} diverged"
        follower.stop()
    first.stop()
