"""ValidatingAdmissionPolicy and binding rules, defaults and table cells."""
from apiserver.registry.resources.admission_policy_rules import compile_problem, default_match_resources
from apiserver.registry.resources.validatingadmissionpolicies import validate_policy_spec
from apiserver.registry.resources.validatingadmissionpolicybindings import (go_label_selector_string,
                                                                            param_ref_cell, validate_binding_spec)

RULES = {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
         "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                            "resources": ["pods"], "scope": "*"}]}


def _fields(causes):
    return [c.field for c in causes]


def test_compile_problem_points_at_the_column():
    assert compile_problem("object.metadata.name == 'x'") == ""
    assert compile_problem("1 +").startswith("ERROR: <input>:1:")
    assert compile_problem("1 +").endswith("^")


def test_policy_spec():
    ok = {"failurePolicy": "Fail", "matchConstraints": RULES, "validations": [{"expression": "true"}]}
    assert validate_policy_spec(ok, "p") == []
    assert _fields(validate_policy_spec({}, "p")) == ["spec.failurePolicy", "spec.matchConstraints",
                                                      "spec.validations", "spec.auditAnnotations"]
    bad = dict(ok, variables=[{"name": "in", "expression": "1"}], paramKind={"apiVersion": "a/b/c", "kind": "K"},
               auditAnnotations=[{"key": "k", "valueExpression": "'v'"}, {"key": "k", "valueExpression": "("}],
               validations=[{"expression": "true", "message": "a\nb"}])
    assert _fields(validate_policy_spec(bad, "p")) == [
        "spec.paramKind.apiVersion", "spec.variables[0].name", "spec.validations[0].message",
        "spec.auditAnnotations[1].valueExpression", "spec.auditAnnotations[1].key"]


def test_defaults():
    mr = {"resourceRules": [{}]}
    default_match_resources(mr)
    assert mr == {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                  "resourceRules": [{"scope": "*"}]}


def test_binding_spec_and_cells():
    assert validate_binding_spec({"policyName": "p", "validationActions": ["Warn", "Audit"]}) == []
    assert _fields(validate_binding_spec({"validationActions": ["Deny", "Deny"]})) == [
        "spec.policyName", "spec.validationActions[1]"]
    assert _fields(validate_binding_spec({"policyName": "p", "validationActions": [],
                                          "paramRef": {"parameterNotFoundAction": "Skip"}})) == [
        "spec.paramRef", "spec.paramRef.parameterNotFoundAction", "spec.validationActions"]
    assert param_ref_cell({"name": "c"}) == "*/c" and param_ref_cell(None) == "<unset>"
    assert go_label_selector_string({"matchLabels": {"a": "b"}}) == \
        "&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}"
