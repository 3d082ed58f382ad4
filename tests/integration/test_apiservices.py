"""apiregistration.k8s.io/v1 APIServices as kube-apiserver lists them: a local one,
Available (Local), per served group-version; kube-aggregator's validation."""
from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def reg(api_client):
    return client.ApiregistrationV1Api(api_client)


def test_every_served_group_version_has_a_local_available_apiservice(reg, api_client):
    served = {"v1."} | {f"{v.version}.{g.name}" for g in client.ApisApi(api_client).get_api_versions().groups
                        for v in g.versions}
    items = {a.metadata.name: a for a in reg.list_api_service().items}
    assert served <= set(items), served - set(items)
    apps = items["v1.apps"]
    assert apps.spec.service is None and (apps.spec.group_priority_minimum, apps.spec.version_priority) == (17800, 15)
    assert items["v2.autoscaling"].spec.version_priority == 30  # preferred over v1 (15)
    (cond,) = apps.status.conditions
    assert (cond.type, cond.status, cond.reason) == ("Available", "True", "Local")
    assert apps.metadata.labels["kube-aggregator.kubernetes.io/automanaged"] == "onstart"


def test_kubectl_get_apiservices_table(kubectl):
    out = kubectl("get", "apiservices").stdout.splitlines()
    assert out[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    row = next(line.split() for line in out if line.startswith("v1.apps "))
    assert row[1:3] == ["Local", "True"]


def _invalid(reg, body) -> str:
    with pytest.raises(ApiException) as e:
        reg.create_api_service(body)
    assert e.value.status == 422, e.value.body
    return e.value.body


def test_validation_as_kube_aggregator(reg):
    def svc(name, **spec):
        return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name},
                "spec": {"group": "example.com", "version": "v1", "groupPriorityMinimum": 1000,
                         "versionPriority": 15, **spec}}
    body = _invalid(reg, svc("v2.example.com"))
    assert "metadata.name" in body and 'must be `spec.version+\\".\\"+spec.group`: \\"v1.example.com\\"' in body
    body = _invalid(reg, svc("v1.example.com", groupPriorityMinimum=0, versionPriority=1001))
    assert "must be positive and less than 20000" in body and "must be positive and less than 1000" in body
    body = _invalid(reg, svc("v1.example.com", insecureSkipTLSVerify=True))
    assert "local APIServices may not have insecureSkipTLSVerify" in body
    body = _invalid(reg, svc("v1.example.com", service={"namespace": "default"}))
    assert "spec.service.name: Required value" in body
    created = reg.create_api_service(svc("v1.example.com", service={"namespace": "default", "name": "ext"}))
    try:
        assert created.spec.service.port == 443 and not (created.status and created.status.conditions)
    finally:
        reg.delete_api_service("v1.example.com")


def test_a_crd_group_version_gets_an_apiservice_while_served(api_client, reg):
    import time
    import uuid

    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition({
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]}})

    def wait_for(what, check):
        deadline = time.monotonic() + 30
        while not (got := check()):
            assert time.monotonic() < deadline, what
            time.sleep(0.1)
        return got

    def current():
        return next((a for a in reg.list_api_service().items if a.metadata.name == f"v1.{group}"), None)
    svc = wait_for("the CRD's APIService", current)
    assert svc.metadata.labels["kube-aggregator.kubernetes.io/automanaged"] == "true"
    assert (svc.spec.group_priority_minimum, svc.spec.version_priority) == (1000, 100)
    assert wait_for("Available", lambda: (s := current()) and s.status and s.status.conditions)[0].reason == "Local"
    ext.delete_custom_resource_definition(f"widgets.{group}")
    wait_for("the APIService gone with its CRD", lambda: current() is None)
