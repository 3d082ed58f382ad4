"""The audit Policy: which level and stages a request gets (no I/O)."""
from __future__ import annotations

import pytest

from apiserver.http.audit.events import response_status, without_managed_fields
from apiserver.http.audit.policy import Policy, PolicyError, Request, parse
from tests.audit_support import audit_policy

POLICY = audit_policy("""\
- level: None
  users: ["system:kube-proxy"]
  verbs: [watch]
- level: None
  nonResourceURLs: ["/healthz*", /version]
- level: Metadata
  resources: [{group: "", resources: [secrets, configmaps]}]
- level: Request
  resources: [{group: "", resources: ["pods/*"]}]
  omitStages: [ResponseStarted]
- level: RequestResponse
  resources: [{group: apps, resources: ["*/scale"]}, {group: "", resources: [services], resourceNames: [web]}]
- level: Request
  userGroups: ["system:nodes"]
- level: Metadata
  namespaces: [kube-system]
- level: RequestResponse
  verbs: [create]
  omitManagedFields: true
""")


def req(**kw) -> Request:
    base = dict(user="alice", groups=("system:authenticated",), verb="get", is_resource_request=True,
                path="/api/v1/namespaces/default/pods/p", group="", resource="pods", namespace="default", name="p")
    base.update(kw)
    return Request(**base)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse(POLICY)


def test_first_matching_rule_decides(policy):
    assert policy.decide(req(resource="secrets")).level == "Metadata"
    assert policy.decide(req(resource="secrets", verb="create")).level == "Metadata"  # not the later create rule
    assert policy.decide(req(resource="pods", subresource="log")).level == "Request"
    assert policy.decide(req(resource="pods")).level == "None"              # pods/* is subresources only
    assert policy.decide(req(group="apps", resource="deployments", subresource="scale")).level == "RequestResponse"
    assert policy.decide(req(resource="services", name="web")).level == "RequestResponse"
    assert policy.decide(req(resource="services", name="other")).level == "None"


def test_users_groups_verbs_and_namespaces(policy):
    assert policy.decide(req(user="system:kube-proxy", verb="watch", resource="endpointslices")).level == "None"
    assert policy.decide(req(user="system:kube-proxy", verb="list", resource="nodes", namespace="",
                             groups=("system:nodes",))).level == "Request"
    assert policy.decide(req(resource="leases", namespace="kube-system")).level == "Metadata"
    assert policy.decide(req(resource="leases", namespace="default")).level == "None"


def test_non_resource_urls(policy):
    nr = dict(is_resource_request=False, resource="", namespace="", name="")
    assert policy.decide(req(path="/healthz/etcd", **nr)).level == "None"
    assert policy.decide(req(path="/version", **nr)).level == "None"
    # resource and namespace rules never match a non-resource request
    assert policy.decide(req(path="/openapi/v2", verb="get", **nr)).level == "None"
    assert policy.decide(req(path="/apis", verb="create", **nr)).level == "RequestResponse"


def test_stages_and_managed_fields(policy):
    d = policy.decide(req(resource="pods", subresource="exec"))
    assert d.omit_stages == {"RequestReceived", "ResponseStarted"}
    created = policy.decide(req(resource="events", verb="create"))
    assert created.omit_managed_fields and not policy.decide(req(resource="secrets")).omit_managed_fields
    assert created.at_least("Request") and not policy.decide(req(resource="secrets")).at_least("Request")


@pytest.mark.parametrize("text,message", [
    ("apiVersion: v1\nkind: Policy\nrules: [{level: None}]", "audit.k8s.io/v1"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []", "rules: Required value"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]", 'rules[0].level: Unsupported value: "Everything"'),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Later]\nrules: [{level: None}]", 'omitStages[0]: Unsupported value: "Later"'),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/x], namespaces: [a]}]",
     "cannot apply to both"),
])
def test_bad_policies_are_refused(text, message):
    with pytest.raises(PolicyError) as e:
        parse(text)
    assert message in str(e.value)


def test_response_status_and_managed_fields():
    assert response_status(200, {"kind": "ConfigMap"}) == {"metadata": {}, "code": 200}
    st = response_status(403, {"kind": "Status", "status": "Failure", "message": "no", "reason": "Forbidden"})
    assert st == {"metadata": {}, "code": 403, "status": "Failure", "message": "no", "reason": "Forbidden"}
    obj = {"metadata": {"name": "a", "managedFields": [{}]}, "items": [{"metadata": {"managedFields": []}}]}
    assert without_managed_fields(obj) == {"metadata": {"name": "a"}, "items": [{"metadata": {}}]}
    assert obj["metadata"]["managedFields"] == [{}]        # the original is untouched
