"""x-kubernetes-validations (CEL through cel-python): messages, transition rules, compile errors."""
import pytest

from apiserver.registry.customresources import cel

SPEC = {"type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.minReplicas <= self.replicas", "message": "replicas should be at least minReplicas"},
            {"rule": "self.replicas <= self.maxReplicas"}],
        "properties": {
            "replicas": {"type": "integer"}, "minReplicas": {"type": "integer"}, "maxReplicas": {"type": "integer"},
            "mode": {"type": "string", "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "mode is immutable"}]}}}


def _texts(value, old=None):
    causes = cel.validate(SPEC, value, path="spec") if old is None else cel.validate(SPEC, value, old, "spec")
    return [f"{c.field}: {c.message}" for c in causes]


def test_rules_pass_and_fail_with_upstream_wording():
    assert _texts({"replicas": 2, "minReplicas": 1, "maxReplicas": 3}) == []
    assert _texts({"replicas": 5, "minReplicas": 6, "maxReplicas": 3}) == [
        'spec: Invalid value: "object": replicas should be at least minReplicas',
        'spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas']


def test_transition_rules_run_on_updates_only():
    ok = {"replicas": 2, "minReplicas": 1, "maxReplicas": 3, "mode": "a"}
    assert _texts(ok) == []
    assert _texts({**ok, "mode": "b"}, old=ok) == ['spec.mode: Invalid value: "string": mode is immutable']
    assert _texts({**ok, "mode": "a"}, old=ok) == []


def test_missing_fields_are_an_evaluation_error_and_bad_rules_do_not_compile():
    assert _texts({"replicas": 2, "maxReplicas": 3}) == [
        'spec: Invalid value: "object": no such key: minReplicas evaluating rule: '
        'self.minReplicas <= self.replicas']
    assert cel.compile_error("self.replicas <=") != ""
    assert cel.compile_error("has(self.x) ? self.x > 1 : true") == ""


_SPEC = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "replicas": {"type": "integer"}, "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}


@pytest.mark.parametrize("rule, undefined", [
    ("self.spec.replicas > 1", ""),
    ("self.spec.tags.anything == 'a'", ""),           # a map: any key
    ("self.spec.free.whatever == 1", ""),              # preserved unknown fields: dynamic
    ("self.metadata.name == 'x' && self.kind == 'K'", ""),
    ("self.spec.items.all(i, i.x)", "ERROR: <input>:1:10: undefined field 'items'"),
    ("has(self.spec.nope)", "ERROR: <input>:1:14: undefined field 'nope'"),
    ("oldSelf.other == self.spec", "ERROR: <input>:1:8: undefined field 'other'"),
])
def test_undefined_fields_are_compile_errors(rule, undefined):
    got = cel.undefined_field(rule, _SPEC)
    assert got.split("\n")[0] == undefined
