"""Decode-time type check of built-in kinds (machinery.typecheck): Go's unmarshal errors."""
from __future__ import annotations

import pytest

from apiserver.machinery import schemas
from apiserver.machinery.typecheck import first_type_error

POD = schemas.for_kind("", "v1", "Pod")
NS = schemas.for_kind("", "v1", "Namespace")
CM = schemas.for_kind("", "v1", "ConfigMap")


@pytest.mark.parametrize("obj,schema,want", [
    ({"metadata": {"name": 5}}, CM, "cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"),
    ({"spec": "zz"}, NS, "cannot unmarshal string into Go struct field Namespace.spec of type v1.NamespaceSpec"),
    ({"data": {"a": 1}}, CM, "cannot unmarshal number into Go struct field ConfigMap.data.a of type string"),
    ({"metadata": {"labels": ["a"]}}, CM, "cannot unmarshal array into Go struct field ObjectMeta.metadata.labels "
                                          "of type map[string]string"),
    ({"spec": {"containers": {"name": "c"}}}, POD, "cannot unmarshal object into Go struct field PodSpec.spec.containers "
                                                   "of type []v1.Container"),
    ({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}, POD,
     "cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"),
    ({"spec": {"terminationGracePeriodSeconds": 1.5}}, POD, "cannot unmarshal number 1.5 into Go struct field "
                                                            "PodSpec.spec.terminationGracePeriodSeconds of type int64"),
    ({"spec": {"hostNetwork": "yes"}}, POD, "cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool"),
])
def test_wrong_types_are_named_as_go_names_them(obj, schema, want):
    assert first_type_error(obj, schema) == "json: " + want


@pytest.mark.parametrize("obj,schema", [
    ({"metadata": {"name": "x", "labels": None}, "data": None}, CM),          # null is the zero value
    ({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}}, POD),
    ({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80.0}]}]}}, POD),
    ({"spec": {"containers": [{"name": "c", "livenessProbe": {"httpGet": {"port": "http"}}}]}}, POD),
    ({"spec": {"containers": [{"name": "c", "livenessProbe": {"httpGet": {"port": 8080}}}]}}, POD),
    ({"unknown": {"anything": [1, "x"]}}, CM),                                # unknown fields are not typed
])
def test_right_types_pass(obj, schema):
    assert first_type_error(obj, schema) is None


def test_deep_values_are_checked_without_recursion():
    deep: dict = {}
    cur = deep
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    assert first_type_error({"metadata": {"name": "x"}, "x": deep}, CM) is None
