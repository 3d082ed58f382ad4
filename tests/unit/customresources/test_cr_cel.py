"""x-kubernetes-validations (CEL through cel-python): messages, transition rules, compile errors."""
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
