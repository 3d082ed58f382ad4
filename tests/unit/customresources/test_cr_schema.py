"""A custom resource's structural schema: validation messages, defaulting, pruning."""
from apiserver.registry.customresources import schema

SPEC = {
    "type": "object",
    "required": ["cron"],
    "properties": {
        "cron": {"type": "string", "pattern": "^a+$", "maxLength": 3},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        "port": {"x-kubernetes-int-or-string": True},
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "when": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "inner": {"type": "object", "x-kubernetes-embedded-resource": True,
                  "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}},
    },
}


def _messages(value):
    return [f"{c.field}: {c.message}" for c in schema.validate(SPEC, value, "spec")]


def test_each_rule_worded_as_upstream():
    assert _messages({"cron": "b", "replicas": 0}) == [
        "spec.cron: Invalid value: \"b\": spec.cron in body should match '^a+$'",
        "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"]
    assert _messages({"cron": "aaaa", "replicas": 11, "mode": "x"}) == [
        "spec.cron: Too long: may not be more than 3 bytes",
        "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
        'spec.mode: Unsupported value: "x": supported values: "fast", "slow"']
    assert _messages({"replicas": "1"}) == [
        "spec.cron: Required value",
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']
    assert _messages({"cron": "a", "when": "yesterday"}) == [
        'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']


def test_int_or_string_lists_and_embedded_resources():
    assert _messages({"cron": "a", "port": 80}) == [] and _messages({"cron": "a", "port": "http"}) == []
    assert _messages({"cron": "a", "port": 1.5}) == [
        'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"']
    assert _messages({"cron": "a", "tags": ["x", "x"], "ports": [{"name": "a"}, {"name": "a"}]}) == [
        'spec.tags[1]: Duplicate value: "x"', 'spec.ports[1]: Duplicate value: {"name":"a"}']
    assert _messages({"cron": "a", "inner": {"kind": "Pod"}}) == ["spec.inner.apiVersion: Required value: must not be empty"]


def test_defaults_and_pruning():
    obj = {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n", "x": 1},
           "spec": {"cron": "a", "junk": 1, "free": {"any": {"thing": 1}}, "ports": [{"name": "p", "extra": 2}]},
           "other": 1}
    root = {"type": "object", "properties": {"spec": SPEC}}
    assert schema.prune(root, obj) == ["spec.junk", "spec.ports[0].extra", "other"]
    schema.apply_defaults(root, obj)
    assert obj == {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "n", "x": 1},
                   "spec": {"cron": "a", "replicas": 1, "free": {"any": {"thing": 1}}, "ports": [{"name": "p"}]}}
