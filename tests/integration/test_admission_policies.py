"""admissionregistration.k8s.io/v1 ValidatingAdmissionPolicies and bindings through
real clients: stored, defaulted, validated (CEL compiled), kubectl tables, and enforced
by the ValidatingAdmissionPolicy admission plugin (Deny with params, Warn)."""
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

POLICY = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
          "metadata": {"name": "replica-limit"},
          "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                   "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                                                           "operations": ["CREATE", "UPDATE"],
                                                           "resources": ["deployments"]}]},
                   "validations": [{"expression": "object.spec.replicas <= int(params.data.max)"}]}}


@pytest.fixture
def admission(api_client):
    return client.AdmissionregistrationV1Api(api_client)


def _causes(call) -> list[tuple[str, str]]:
    with pytest.raises(ApiException) as e:
        call()
    assert e.value.status == 422, e.value.body
    return [(c["field"], c["message"]) for c in json.loads(e.value.body)["details"]["causes"]]


def test_policy_and_binding_round_trip(admission, kubectl):
    admission.create_validating_admission_policy(POLICY)
    try:
        got = admission.read_validating_admission_policy("replica-limit")
        assert got.spec.failure_policy == "Fail"  # defaults as upstream
        assert got.spec.match_constraints.match_policy == "Equivalent"
        assert got.spec.match_constraints.resource_rules[0].scope == "*"
        admission.create_validating_admission_policy_binding({
            "metadata": {"name": "replica-limit-prod"},
            "spec": {"policyName": "replica-limit", "validationActions": ["Deny"],
                     "paramRef": {"name": "limits", "namespace": "default", "parameterNotFoundAction": "Deny"}}})
        for version in ("1.27", "1.33"):
            lines = kubectl("get", "validatingadmissionpolicies", version=version).stdout.splitlines()
            assert lines[0].split() == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
            assert lines[1].split()[:3] == ["replica-limit", "1", "v1/ConfigMap"]
            lines = kubectl("get", "validatingadmissionpolicybindings", version=version).stdout.splitlines()
            assert lines[0].split() == ["NAME", "POLICYNAME", "PARAMREF", "AGE"]
            assert lines[1].split()[:3] == ["replica-limit-prod", "replica-limit", "default/limits"]
    finally:
        kubectl("delete", "validatingadmissionpolicybinding", "replica-limit-prod", "--ignore-not-found")
        admission.delete_validating_admission_policy("replica-limit")


def test_policy_validation_and_cel_compile_errors(admission, kubectl):
    bad = json.loads(json.dumps(POLICY))
    bad["metadata"]["name"] = "bad-policy"
    bad["spec"]["validations"] = [{"expression": "object.spec.replicas <", "reason": "Teapot"}]
    bad["spec"]["matchConstraints"]["resourceRules"][0]["operations"] = ["PATCH"]
    causes = dict(_causes(lambda: admission.create_validating_admission_policy(bad)))
    assert causes["spec.validations[0].expression"].startswith(
        'Invalid value: "object.spec.replicas <": compilation failed: ERROR: <input>:1:'), causes
    assert causes["spec.validations[0].reason"].startswith('Unsupported value: "Teapot"')
    assert causes["spec.matchConstraints.resourceRules[0].operations[0]"].startswith('Unsupported value: "PATCH"')
    r = kubectl("create", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "empty"}, "spec": {}}))
    assert r.returncode != 0
    for f in ("spec.matchConstraints: Required value",
              "spec.validations: Required value: validations or auditAnnotations must contain at least one item"):
        assert f in r.stderr, r.stderr


def test_binding_validation(admission):
    causes = _causes(lambda: admission.create_validating_admission_policy_binding({
        "metadata": {"name": "bad-binding"},
        "spec": {"policyName": "p", "validationActions": ["Deny", "Warn"],
                 "paramRef": {"name": "x", "selector": {}}}}))
    fields = [f for f, _ in causes]
    assert fields == ["spec.paramRef.name", "spec.paramRef.selector", "spec.paramRef.parameterNotFoundAction",
                      "spec.validationActions"], causes


def test_policies_are_enforced_on_matching_writes(admission, kubectl, namespace):
    """Deny with params from a ConfigMap the binding names, then Warn: through kubectl."""
    kubectl("create", "configmap", "policy-params", "-n", namespace, "--from-literal=banned=forbidden-name")
    admission.create_validating_admission_policy({
        "metadata": {"name": f"ban-{namespace}"},
        "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                 "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                         "operations": ["CREATE", "UPDATE"],
                                                         "resources": ["configmaps"]}]},
                 "validations": [{"expression": "object.metadata.name != params.data.banned",
                                  "reason": "Forbidden"}]}})
    binding = {"metadata": {"name": f"ban-{namespace}"},
               "spec": {"policyName": f"ban-{namespace}", "validationActions": ["Deny"],
                        "paramRef": {"name": "policy-params", "namespace": namespace,
                                     "parameterNotFoundAction": "Deny"},
                        "matchResources": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                              "operations": ["CREATE"], "resources": ["configmaps"],
                                                              "resourceNames": ["forbidden-name", "fine-name"]}]}}}
    admission.create_validating_admission_policy_binding(binding)
    try:
        r = kubectl("create", "configmap", "forbidden-name", "-n", namespace, check=False)
        assert r.returncode != 0 and (
            f"ValidatingAdmissionPolicy 'ban-{namespace}' with binding 'ban-{namespace}' denied request: "
            "failed expression: object.metadata.name != params.data.banned") in r.stderr, r.stderr
        kubectl("create", "configmap", "fine-name", "-n", namespace)
        binding["spec"]["validationActions"] = ["Warn", "Audit"]
        admission.replace_validating_admission_policy_binding(
            f"ban-{namespace}", dict(binding, metadata=admission.read_validating_admission_policy_binding(
                f"ban-{namespace}").metadata))
        r = kubectl("create", "configmap", "forbidden-name", "-n", namespace, version="1.27")
        assert (f"Warning: Validation failed for ValidatingAdmissionPolicy 'ban-{namespace}' with binding "
                f"'ban-{namespace}': failed expression") in r.stderr, r.stderr
    finally:
        admission.delete_validating_admission_policy_binding(f"ban-{namespace}")
        admission.delete_validating_admission_policy(f"ban-{namespace}")
