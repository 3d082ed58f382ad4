"""[sig-instrumentation] Events (core/v1 and events.k8s.io/v1) and [sig-auth] ServiceAccounts API rows."""
from __future__ import annotations

import datetime
import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import Watcher, wait_for


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _core_event(ns, name, label_value="true"):
    return {"metadata": {"name": name, "labels": {"testevent-constant": label_value}},
            "message": "This is a test event", "reason": "Test", "type": "Normal", "count": 1,
            "involvedObject": {"namespace": ns}, "firstTimestamp": _now(), "lastTimestamp": _now(),
            "source": {"component": "test"}}


@row("Event, manage lifecycle of an Event", release="v1.25", needs="API",
     codename="[sig-instrumentation] Events should manage the lifecycle of an event")
def test_core_event_lifecycle(core, ns):
    name = "event-test"
    core.create_namespaced_event(ns, _core_event(ns, name))
    everywhere = core.list_event_for_all_namespaces(label_selector="testevent-constant=true").items
    assert any(e.metadata.name == name and e.metadata.namespace == ns for e in everywhere)
    patched = core.patch_namespaced_event(name, ns, {"message": "This is a test event - patched"})
    assert patched.message == "This is a test event - patched"
    got = core.read_namespaced_event(name, ns)
    assert got.message == "This is a test event - patched"

    got.series = client.CoreV1EventSeries(count=100, last_observed_time=_micro_now())
    updated = core.replace_namespaced_event(name, ns, got)
    assert updated.series.count == 100
    core.delete_namespaced_event(name, ns)
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_event(name, ns)
    assert err.value.status == 404


@row("Event, delete a collection", release="v1.20", needs="API",
     codename="[sig-instrumentation] Events should delete a collection of events")
def test_core_event_delete_collection(core, ns):
    for i in range(1, 4):
        core.create_namespaced_event(ns, _core_event(ns, f"test-event-{i}"))
    assert len(core.list_namespaced_event(ns, label_selector="testevent-constant=true").items) == 3
    core.delete_collection_namespaced_event(ns, label_selector="testevent-constant=true")
    assert core.list_namespaced_event(ns, label_selector="testevent-constant=true").items == []


def _new_event(ns, name):
    return {"metadata": {"name": name, "labels": {"testevent-set": "true"}}, "eventTime": _micro_now(),
            "note": "This is a test event", "reason": "Test", "type": "Normal", "action": "Do",
            "reportingController": "test-controller", "reportingInstance": "test-node",
            "regarding": {"namespace": ns, "kind": "Pod", "name": "foo"}}


@row("New Event resource lifecycle, testing a single event", release="v1.19", needs="API",
     codename="[sig-instrumentation] Events API should ensure that an event can be fetched, patched, deleted, and listed")
def test_events_v1_single_event(api, ns):
    ev = client.EventsV1Api(api)
    name = "event-test"
    ev.create_namespaced_event(ns, _new_event(ns, name))
    assert any(e.metadata.name == name for e in ev.list_namespaced_event(ns, label_selector="testevent-set=true").items)
    assert any(e.metadata.namespace == ns for e in ev.list_event_for_all_namespaces(label_selector="testevent-set=true").items)
    got = ev.read_namespaced_event(name, ns)
    assert got.note == "This is a test event"
    patched = ev.patch_namespaced_event(name, ns, {"note": "This is a test event - patched"})
    assert patched.note == "This is a test event - patched"
    current = ev.read_namespaced_event(name, ns)
    current.series = client.EventsV1EventSeries(count=100, last_observed_time=_micro_now())
    updated = ev.replace_namespaced_event(name, ns, current)
    assert updated.series.count == 100
    # the same object is visible through core/v1 with the fields renamed
    core_view = client.CoreV1Api(api).read_namespaced_event(name, ns)
    assert core_view.message == "This is a test event - patched"
    ev.delete_namespaced_event(name, ns)
    assert not ev.list_namespaced_event(ns, label_selector="testevent-set=true").items


@row("New Event resource lifecycle, testing a list of events", release="v1.19", needs="API",
     codename="[sig-instrumentation] Events API should delete a collection of events")
def test_events_v1_delete_collection(api, ns):
    ev = client.EventsV1Api(api)
    for i in range(1, 4):
        ev.create_namespaced_event(ns, _new_event(ns, f"test-event-{i}"))
    assert len(ev.list_namespaced_event(ns, label_selector="testevent-set=true").items) == 3
    ev.delete_collection_namespaced_event(ns, label_selector="testevent-set=true")
    assert ev.list_namespaced_event(ns, label_selector="testevent-set=true").items == []


@row("ServiceAccount lifecycle test", release="v1.19", needs="API",
     codename="[sig-auth] ServiceAccounts should run through the lifecycle of a ServiceAccount")
def test_serviceaccount_lifecycle(core, ns):
    name = "testserviceaccount"
    listed = core.list_namespaced_service_account(ns, label_selector="test-serviceaccount-static=true")
    w = Watcher(core.list_namespaced_service_account, namespace=ns, label_selector="test-serviceaccount-static=true",
                resource_version=listed.metadata.resource_version)
    core.create_namespaced_service_account(ns, {"metadata": {"name": name,
                                                             "labels": {"test-serviceaccount-static": "true"}}})
    added = w.expect_event("ADDED")
    assert added["metadata"]["labels"]["test-serviceaccount-static"] == "true"
    core.patch_namespaced_service_account(name, ns, {"metadata": {"labels": {"test-serviceaccount": "patched"}},
                                                     "automountServiceAccountToken": False})
    modified = w.expect_event("MODIFIED")
    assert modified["metadata"]["labels"]["test-serviceaccount"] == "patched"
    assert modified["automountServiceAccountToken"] is False
    found = core.list_service_account_for_all_namespaces(label_selector="test-serviceaccount-static=true").items
    assert any(sa.metadata.name == name and sa.metadata.labels.get("test-serviceaccount") == "patched"
               for sa in found)
    core.delete_collection_namespaced_service_account(ns, label_selector="test-serviceaccount-static=true")
    w.expect_event("DELETED")
    w.stop()


@row("ServiceAccount, update a ServiceAccount", release="v1.26", needs="API",
     codename="[sig-auth] ServiceAccounts should update a ServiceAccount")
def test_serviceaccount_update(core, ns):
    name = "e2e-sa-" + uuid.uuid4().hex[:5]
    core.create_namespaced_service_account(ns, {"metadata": {"name": name}})
    sa = core.read_namespaced_service_account(name, ns)
    sa.automount_service_account_token = False
    assert core.replace_namespaced_service_account(name, ns, sa).automount_service_account_token is False
    sa = core.read_namespaced_service_account(name, ns)
    sa.automount_service_account_token = True
    assert core.replace_namespaced_service_account(name, ns, sa).automount_service_account_token is True


@row("RootCA ConfigMap test", release="v1.21", needs="CTRL",
     codename="[sig-auth] ServiceAccounts should guarantee kube-root-ca.crt exist in any namespace")
def test_root_ca_configmap_in_every_namespace(core, ns):
    name = "kube-root-ca.crt"

    def present():
        try:
            cm = core.read_namespaced_config_map(name, ns)
            return cm if cm.data and "ca.crt" in cm.data else None
        except client.ApiException:
            return None
    wait_for(present, what="kube-root-ca.crt")
    core.delete_namespaced_config_map(name, ns)
    wait_for(present, what="kube-root-ca.crt to be recreated")
    cm = core.read_namespaced_config_map(name, ns)
    cm.data = {}
    core.replace_namespaced_config_map(name, ns, cm)
    wait_for(present, what="kube-root-ca.crt to be reconciled")
