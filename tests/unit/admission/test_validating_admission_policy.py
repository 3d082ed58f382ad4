"""ValidatingAdmissionPolicy matching, evaluation and actions (pure parts)."""
import pytest
from openapi import catalogue

from apiserver.admission.validating_admission_policy import ValidatingAdmissionPolicy, _evaluate, _matches
from apiserver.machinery.errors import StatusError
from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import Attributes

CM = next(r for r in catalogue.load().resources() if r.plural == "configmaps" and not r.group)
RULE = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}


def _attrs(name="x", op="CREATE"):
    obj = {"metadata": {"name": name, "labels": {"team": "a"}}, "data": {"k": "v"}}
    return Attributes(op, CM, "", "ns", name, obj, None, UserInfo("alice"))


def test_matching():
    assert _matches({"resourceRules": [RULE]}, _attrs(), {})
    assert not _matches({"resourceRules": [dict(RULE, resourceNames=["other"])]}, _attrs(), {})
    assert not _matches({"resourceRules": [RULE], "excludeResourceRules": [RULE]}, _attrs(), {})
    assert not _matches({"objectSelector": {"matchLabels": {"team": "b"}}}, _attrs(), {})
    assert not _matches({"resourceRules": [RULE]}, _attrs(op="UPDATE"), {})


def test_evaluation_and_actions():
    policy = {"metadata": {"name": "p"}, "spec": {"validations": [
        {"expression": "object.data.k == 'v'"},
        {"expression": "request.userInfo.username == 'bob'", "message": "only bob", "reason": "Forbidden"}]}}
    failures = _evaluate(policy, _attrs(), None)
    assert [(f.message, f.reason) for f in failures] == [("only bob", "Forbidden")]
    attrs = _attrs()
    plugin = ValidatingAdmissionPolicy(None)
    plugin._act(policy, {"metadata": {"name": "b"}, "spec": {"validationActions": ["Warn"]}}, failures, attrs)
    assert attrs.warnings == ["Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': only bob"]
    with pytest.raises(StatusError) as e:
        plugin._act(policy, {"metadata": {"name": "b"}, "spec": {"validationActions": ["Deny"]}}, failures, attrs)
    assert e.value.code == 403
