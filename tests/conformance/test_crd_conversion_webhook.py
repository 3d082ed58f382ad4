"""[sig-api-machinery] CustomResourceConversionWebhook: custom resources served in
two versions through a conversion webhook.

Upstream runs the webhook as a pod behind a Service; here it is a real HTTPS
server the test starts on loopback (tests/conversion_webhook.py), named by the
CRD's clientConfig.url with its caBundle. It converts v1's `hostPort` to v2's
`host` and `port` and back, as upstream's sample webhook does.
"""
from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.conformance.rows import row
from tests.conformance.support import wait_for
from tests.conversion_webhook import ConversionWebhook, crd

CODENAME = "[sig-api-machinery] CustomResourceConversionWebhook [Privileged:ClusterAdmin] "


@pytest.fixture
def converted_crd(api):
    """(group, webhook): a CRD stored at v1, served at v1 and v2 through the webhook."""
    hook = ConversionWebhook()
    group = f"e2e-conv-{uuid.uuid4().hex[:6]}.example.com"
    ext = client.ApiextensionsV1Api(api)
    body = crd(group, hook, plural="e2e-test-crds", kind="E2eTestCrd")
    ext.create_custom_resource_definition(body)

    def established():
        got = ext.read_custom_resource_definition(body["metadata"]["name"])
        return any(c.type == "Established" and c.status == "True" for c in got.status.conditions or ())
    wait_for(established, what="CRD Established")
    yield group, hook
    ext.delete_custom_resource_definition(body["metadata"]["name"])
    hook.close()


def _cr(group: str, version: str, name: str, spec: dict) -> dict:
    return {"apiVersion": f"{group}/{version}", "kind": "E2eTestCrd", "metadata": {"name": name}, "spec": spec}


@row("Custom Resource Definition Conversion Webhook, conversion custom resource", release="v1.16", needs="API",
     codename=CODENAME + "should be able to convert from CR v1 to CR v2")
def test_convert_from_cr_v1_to_cr_v2(api, ns, converted_crd):
    """Register a conversion webhook and a custom resource definition. Create a v1 custom
    resource. Attempts to read it at v2 MUST succeed."""
    group, hook = converted_crd
    crs = client.CustomObjectsApi(api)
    crs.create_namespaced_custom_object(group, "v1", ns, "e2e-test-crds",
                                        _cr(group, "v1", "cr-instance-v1", {"hostPort": "localhost:8080"}))
    got = crs.get_namespaced_custom_object(group, "v2", ns, "e2e-test-crds", "cr-instance-v1")
    assert got["apiVersion"] == f"{group}/v2"
    assert got["spec"] == {"host": "localhost", "port": "8080"}
    assert hook.requests and hook.requests[-1]["request"]["desiredAPIVersion"] == f"{group}/v2"


@row("Custom Resource Definition Conversion Webhook, convert mixed version list", release="v1.16", needs="API",
     codename=CODENAME + "should be able to convert a non homogeneous list of CRs")
def test_convert_a_non_homogeneous_list(api, ns, converted_crd):
    """Register a conversion webhook and a custom resource definition. Create a custom
    resource stored at v1. Change the custom resource definition storage to v2. Create a
    custom resource stored at v2. Attempt to list the custom resources at v2; the list
    result MUST contain both custom resources at v2."""
    group, hook = converted_crd
    crs = client.CustomObjectsApi(api)
    crs.create_namespaced_custom_object(group, "v1", ns, "e2e-test-crds",
                                        _cr(group, "v1", "cr-instance-v1", {"hostPort": "localhost:8080"}))
    ext = client.ApiextensionsV1Api(api)
    name = f"e2e-test-crds.{group}"
    current = ext.read_custom_resource_definition(name)
    for v in current.spec.versions:
        v.storage = v.name == "v2"
    ext.replace_custom_resource_definition(name, current)

    def stored_in_v2():   # the new storage version is in use once a v2 write needs no conversion
        before = len(hook.requests)
        cr = _cr(group, "v2", f"probe-{uuid.uuid4().hex[:4]}", {"host": "probe", "port": "1"})
        crs.create_namespaced_custom_object(group, "v2", ns, "e2e-test-crds", cr)
        crs.delete_namespaced_custom_object(group, "v2", ns, "e2e-test-crds", cr["metadata"]["name"])
        return len(hook.requests) == before
    wait_for(stored_in_v2, what="v2 as the storage version")

    crs.create_namespaced_custom_object(group, "v2", ns, "e2e-test-crds",
                                        _cr(group, "v2", "cr-instance-v2", {"host": "127.0.0.1", "port": "9090"}))
    items = crs.list_namespaced_custom_object(group, "v2", ns, "e2e-test-crds")["items"]
    assert {i["metadata"]["name"]: (i["apiVersion"], i["spec"]) for i in items} == {
        "cr-instance-v1": (f"{group}/v2", {"host": "localhost", "port": "8080"}),
        "cr-instance-v2": (f"{group}/v2", {"host": "127.0.0.1", "port": "9090"})}
    # the v1 list converts the other one
    items = crs.list_namespaced_custom_object(group, "v1", ns, "e2e-test-crds")["items"]
    assert {i["metadata"]["name"]: i["spec"] for i in items} == {
        "cr-instance-v1": {"hostPort": "localhost:8080"}, "cr-instance-v2": {"hostPort": "127.0.0.1:9090"}}
