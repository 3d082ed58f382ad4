"""The compiled schema checks agree with a generic jsonschema validator."""
import pytest

from apiserver.registry.validation import schema

SAMPLES = [
    ("io.k8s.api.core.v1.Pod", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"a": 1}},
                                "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}],
                                                         "resources": {"limits": {"cpu": [1]}}}, {"image": 3}],
                                         "restartPolicy": 3, "terminationGracePeriodSeconds": 1.5}}),
    ("io.k8s.api.core.v1.Service", {"kind": "Svc", "spec": {"ports": [{"port": 80, "targetPort": {"x": 1}}],
                                                            "selector": "app"}}),
    ("io.k8s.api.core.v1.ConfigMap", {"data": {"a": "b", "c": None}, "immutable": "yes"}),
    ("io.k8s.api.coordination.v1.Lease", {"spec": {"leaseDurationSeconds": "15", "holderIdentity": "h"}}),
]


def key(causes):
    return sorted((c.field, c.reason, c.message) for c in causes)


@pytest.mark.parametrize("definition,obj", SAMPLES)
def test_compiled_matches_jsonschema(definition, obj):
    assert key(schema.validate(definition, obj)) == key(schema.jsonschema_causes(definition, obj))
    assert schema.validate(definition, obj)  # each sample has problems


def test_messages():
    causes = schema.validate("io.k8s.api.core.v1.Pod", {"spec": {"containers": [{"image": "x"}], "priority": "high"}})
    assert [(c.field, c.reason, c.message) for c in causes] == [
        ("spec.containers[0].name", "FieldValueRequired", "Required value"),
        ("spec.priority", "FieldValueTypeInvalid",
         'Invalid value: "string": spec.priority in body must be of type integer: "string"')]
