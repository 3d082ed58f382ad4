"""Webhook conversion of custom resources: a real HTTPS conversion webhook on
loopback (tests/conversion_webhook.py) converts between v1 and v2, driven through
kubectl and the official Python client; its misbehaviours are refused with
upstream's messages."""
from __future__ import annotations

import json
import uuid

import pytest
import yaml
from kubernetes import client, watch

from tests.conformance.support import wait_for
from tests.conversion_webhook import ConversionWebhook, crd


@pytest.fixture(scope="module")
def webhook():
    hook = ConversionWebhook()
    yield hook
    hook.close()


@pytest.fixture
def group(kubectl, webhook):
    """A fresh group with the HostPort CRD (storage v1) converted by the webhook."""
    group = f"conv{uuid.uuid4().hex[:6]}.example.com"
    webhook.mode = ""
    kubectl("apply", "-f", "-", input=json.dumps(crd(group, webhook)))
    kubectl("wait", "--for=condition=Established", f"crd/hostports.{group}", "--timeout=30s")
    yield group
    webhook.mode = ""
    kubectl("delete", "crd", f"hostports.{group}", "--wait=false")


def _hp(group: str, version: str, name: str, **spec) -> str:
    return yaml.safe_dump({"apiVersion": f"{group}/{version}", "kind": "HostPort", "metadata": {"name": name},
                           "spec": spec})


def test_objects_are_served_in_every_version_through_the_webhook(kubectl, api_client, namespace, group, webhook):
    kubectl("create", "-n", namespace, "-f", "-", input=_hp(group, "v1", "one", hostPort="localhost:8080"))
    assert not webhook.requests or all(r["request"]["desiredAPIVersion"] != f"{group}/v2" for r in webhook.requests)
    got = json.loads(kubectl("get", "-n", namespace, f"hostports.v2.{group}/one", "-o", "json").stdout)
    assert got["apiVersion"] == f"{group}/v2"
    assert got["spec"] == {"host": "localhost", "port": "8080"}
    review = webhook.requests[-1]
    assert review["apiVersion"] == "apiextensions.k8s.io/v1" and review["kind"] == "ConversionReview"
    assert review["request"]["desiredAPIVersion"] == f"{group}/v2"
    assert [o["spec"] for o in review["request"]["objects"]] == [{"hostPort": "localhost:8080"}]

    # written in v2 through the Python client: stored as v1, read back in both
    api = client.CustomObjectsApi(api_client)
    created = api.create_namespaced_custom_object(group, "v2", namespace, "hostports", {
        "apiVersion": f"{group}/v2", "kind": "HostPort", "metadata": {"name": "two"},
        "spec": {"host": "example", "port": "443"}})
    assert created["spec"] == {"host": "example", "port": "443"}
    assert api.get_namespaced_custom_object(group, "v1", namespace, "hostports", "two")["spec"] == {
        "hostPort": "example:443"}
    items = api.list_namespaced_custom_object(group, "v2", namespace, "hostports")["items"]
    assert {i["metadata"]["name"]: i["spec"] for i in items} == {
        "one": {"host": "localhost", "port": "8080"}, "two": {"host": "example", "port": "443"}}
    assert all(i["apiVersion"] == f"{group}/v2" for i in items)

    # a merge patch in v2 goes through the webhook both ways
    api.patch_namespaced_custom_object(group, "v2", namespace, "hostports", "one", {"spec": {"port": "9090"}})
    assert api.get_namespaced_custom_object(group, "v1", namespace, "hostports", "one")["spec"] == {
        "hostPort": "localhost:9090"}

    # watch events in v2 are converted too
    w = watch.Watch()
    seen = {}
    for ev in w.stream(api.list_namespaced_custom_object, group, "v2", namespace, "hostports", timeout_seconds=10):
        seen[ev["object"]["metadata"]["name"]] = (ev["object"]["apiVersion"], ev["object"]["spec"])
        if len(seen) == 2:
            w.stop()
    assert seen == {"one": (f"{group}/v2", {"host": "localhost", "port": "9090"}),
                    "two": (f"{group}/v2", {"host": "example", "port": "443"})}


def test_labels_may_change_other_metadata_is_restored(kubectl, namespace, group, webhook):
    kubectl("create", "-n", namespace, "-f", "-", input=_hp(group, "v1", "m", hostPort="a:1"))
    webhook.mode = "relabel"
    got = json.loads(kubectl("get", "-n", namespace, f"hostports.v2.{group}/m", "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"converted": "yes"}
    assert got["metadata"]["generation"] == 1


@pytest.mark.parametrize("mode, message", [
    ("wrong-uid", 'failed: expected response.uid="'),
    ("fail", "failed: cannot convert this one"),
    ("rename", "returned invalid object: must have the same name: bad != renamed"),
    ("too-many", "returned 2 objects, expected 1"),
    ("wrong-version", "returned invalid object at index 0: invalid groupVersion (expected {group}/v2, "
                      "received {group}/v9)"),
    ("status-500", 'failed: an error on the server ("{{"oops": true}}") has prevented the request from succeeding'),
])
def test_a_misbehaving_webhook_fails_the_read(kubectl, namespace, group, webhook, mode, message):
    kubectl("create", "-n", namespace, "-f", "-", input=_hp(group, "v1", "bad", hostPort="a:1"))
    webhook.mode = mode
    cp = kubectl("get", "-n", namespace, f"hostports.v2.{group}/bad", check=False)
    assert cp.returncode != 0
    assert f"Error from server: conversion webhook for {group}/v1, Kind=HostPort " in cp.stderr
    assert message.format(group=group) in cp.stderr
    # the storage version needs no conversion and still answers
    kubectl("get", "-n", namespace, f"hostports.v1.{group}/bad")


def test_unreachable_or_untrusted_webhook_fails_writes_and_reads(kubectl, api_client, namespace, group, webhook):
    kubectl("create", "-n", namespace, "-f", "-", input=_hp(group, "v1", "kept", hostPort="a:1"))
    other = ConversionWebhook()    # serves with a certificate of another CA than the caBundle names
    try:
        patch = {"spec": {"conversion": {"webhook": {"clientConfig": {"url": other.url}}}}}
        kubectl("patch", "crd", f"hostports.{group}", "--type=merge", "-p", json.dumps(patch))
        api = client.CustomObjectsApi(api_client)

        def refused():
            try:
                api.create_namespaced_custom_object(group, "v2", namespace, "hostports", {
                    "apiVersion": f"{group}/v2", "kind": "HostPort", "metadata": {"name": "new"},
                    "spec": {"host": "h", "port": "1"}})
            except client.ApiException as e:
                return e
            api.delete_namespaced_custom_object(group, "v2", namespace, "hostports", "new")
            return None
        err = wait_for(refused, what="the CRD's new webhook URL in use")
        assert err.status == 500
        status = json.loads(err.body)
        assert status["message"].startswith(f'conversion webhook for {group}/v2, Kind=HostPort failed: '
                                            f'Post "{other.url}?timeout=30s": ')
        assert "CERTIFICATE_VERIFY_FAILED" in status["message"]
        assert other.requests == []
    finally:
        other.close()
    cp = kubectl("get", "-n", namespace, f"hostports.v2.{group}", check=False)
    assert cp.returncode != 0 and f"Error from server: conversion webhook for {group}/v1, Kind=HostPortList " \
                                  f'failed: Post "{other.url}?timeout=30s": ' in cp.stderr
    # a Service reference is resolved to the Service's cluster IP; a missing Service says so
    patch = {"spec": {"conversion": {"webhook": {"clientConfig": {
        "url": None, "service": {"namespace": namespace, "name": "nosuch", "path": "/convert", "port": 443}}}}}}
    kubectl("patch", "crd", f"hostports.{group}", "--type=merge", "-p", json.dumps(patch))
    want = (f'conversion webhook for {group}/v1, Kind=HostPort failed: Post "https://nosuch.{namespace}.svc:443'
            f'/convert?timeout=30s": service "nosuch" not found')
    wait_for(lambda: want in kubectl("get", "-n", namespace, f"hostports.v2.{group}/kept", check=False).stderr,
             what="the Service reference in use")


def test_a_webhook_speaking_v1beta1_gets_v1beta1_reviews(kubectl, namespace, webhook):
    group = f"conv{uuid.uuid4().hex[:6]}.example.com"
    kubectl("apply", "-f", "-", input=json.dumps(crd(group, webhook, review_versions=("v1beta1",))))
    try:
        kubectl("wait", "--for=condition=Established", f"crd/hostports.{group}", "--timeout=30s")
        kubectl("create", "-n", namespace, "-f", "-", input=_hp(group, "v2", "b", host="h", port="7"))
        # to the storage version, then back to v2 for the answer
        assert [(r["apiVersion"], r["request"]["desiredAPIVersion"]) for r in webhook.requests[-2:]] == [
            ("apiextensions.k8s.io/v1beta1", f"{group}/v1"), ("apiextensions.k8s.io/v1beta1", f"{group}/v2")]
        got = json.loads(kubectl("get", "-n", namespace, f"hostports.v1.{group}/b", "-o", "json").stdout)
        assert got["spec"] == {"hostPort": "h:7"}
    finally:
        kubectl("delete", "crd", f"hostports.{group}", "--wait=false")


def test_writes_in_another_version_answer_the_round_trip_through_storage(kubectl, api_client, namespace, group,
                                                                          webhook):
    """As kube-apiserver: a write in v2 (not the storage version) is converted to v1 and
    stored, and answers what was stored converted back to v2, here lowercased by the
    webhook on its way to v1."""
    webhook.mode = "lowercase-host"
    seen = len(webhook.requests)
    created = json.loads(kubectl("create", "-n", namespace, "-o", "json", "-f", "-",
                                 input=_hp(group, "v2", "rt", host="Example.COM", port="443")).stdout)
    assert created["apiVersion"] == f"{group}/v2"
    assert created["spec"] == {"host": "example.com", "port": "443"}
    assert [r["request"]["desiredAPIVersion"] for r in webhook.requests[seen:]] == [f"{group}/v1", f"{group}/v2"]
    as_v1 = yaml.safe_load(kubectl("get", "-n", namespace, f"hostports.v1.{group}/rt", "-o", "yaml").stdout)
    assert (as_v1["apiVersion"], as_v1["spec"]) == (f"{group}/v1", {"hostPort": "example.com:443"})
    as_v2 = yaml.safe_load(kubectl("get", "-n", namespace, f"hostports.v2.{group}/rt", "-o", "yaml").stdout)
    assert (as_v2["apiVersion"], as_v2["spec"]) == (f"{group}/v2", {"host": "example.com", "port": "443"})
    assert as_v2["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # update (PUT) and a server-side dry run in v2 through the Python client answer v2, converted back
    api = client.CustomObjectsApi(api_client)
    body = {**as_v2, "spec": {"host": "Other.ORG", "port": "80"}}
    dry = api.replace_namespaced_custom_object(group, "v2", namespace, "hostports", "rt", body, dry_run="All")
    assert (dry["apiVersion"], dry["spec"]) == (f"{group}/v2", {"host": "other.org", "port": "80"})
    updated = api.replace_namespaced_custom_object(group, "v2", namespace, "hostports", "rt", body)
    assert (updated["apiVersion"], updated["spec"]) == (f"{group}/v2", {"host": "other.org", "port": "80"})
    assert updated["metadata"]["resourceVersion"] != as_v2["metadata"]["resourceVersion"]
    assert api.get_namespaced_custom_object(group, "v2", namespace, "hostports", "rt") == updated
    assert api.get_namespaced_custom_object(group, "v1", namespace, "hostports", "rt")["spec"] == {
        "hostPort": "other.org:80"}

    # a merge patch through kubectl answers v2 the same way
    patched = json.loads(kubectl("patch", "-n", namespace, f"hostports.v2.{group}/rt", "--type=merge", "-o", "json",
                                 "-p", json.dumps({"spec": {"host": "MIXED.case"}})).stdout)
    assert (patched["apiVersion"], patched["spec"]) == (f"{group}/v2", {"host": "mixed.case", "port": "80"})


def test_none_conversion_stores_what_the_storage_version_declares(kubectl, api_client):
    """`None` conversion changes only apiVersion, and the storage version's schema prunes
    on the way in (upstream's storage codec): a field only v2 declares is not kept, and
    the answer to a create in v2 says so."""
    group = f"none{uuid.uuid4().hex[:6]}.example.com"

    def version(name: str, props: dict) -> dict:
        return {"name": name, "served": True, "storage": name == "v1", "schema": {"openAPIV3Schema": {
            "type": "object", "properties": {"spec": {"type": "object", "properties": props}}}}}
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {"group": group, "scope": "Cluster", "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [version("v1", {"a": {"type": "string"}}),
                              version("v2", {"a": {"type": "string"}, "b": {"type": "string"}})]}}))
    try:
        kubectl("wait", "--for=condition=Established", f"crd/gadgets.{group}", "--timeout=30s")
        api = client.CustomObjectsApi(api_client)
        created = api.create_cluster_custom_object(group, "v2", "gadgets", {
            "apiVersion": f"{group}/v2", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"a": "x", "b": "y"}})
        assert (created["apiVersion"], created["spec"]) == (f"{group}/v2", {"a": "x"})
        assert api.get_cluster_custom_object(group, "v1", "gadgets", "g")["spec"] == {"a": "x"}
    finally:
        kubectl("delete", "crd", f"gadgets.{group}", "--wait=false")
