"""Unknown and duplicate field detection, and the three directives."""
import pytest

from apiserver.machinery import fieldvalidation as fv
from apiserver.machinery import schemas
from apiserver.machinery.errors import StatusError

POD = schemas.definition("io.k8s.api.core.v1.Pod")


def test_json_duplicates_with_paths_last_value_wins():
    obj, dups = fv.decode_strict(
        b'{"metadata": {"name": "a", "name": "b"}, "spec": {"containers": [{"name": "x", "image": "i", "image": "j"}]}}',
        "application/json")
    assert obj["metadata"]["name"] == "b"
    assert dups == ["metadata.name", "spec.containers[0].image"]


def test_overwritten_duplicate_objects_do_not_leak_marks():
    obj, dups = fv.decode_strict(b'{"a": {"x": 1, "x": 2}, "a": {"y": 1}, "b": [{"z": 1}]}', "application/json")
    assert dups == ["a"]


def test_yaml_duplicates():
    obj, dups = fv.decode_strict(b"metadata:\n  name: a\n  labels: {x: '1'}\n  name: b\n", "application/yaml")
    assert obj["metadata"]["name"] == "b"
    assert dups == ["metadata.name"]


def test_bad_body_is_400():
    with pytest.raises(StatusError) as e:
        fv.decode_strict(b"{nope", "application/json")
    assert e.value.code == 400


def test_unknown_fields_nested_metadata_and_maps():
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "foo": 1, "labels": {"anything": "goes"}, "annotations": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolice": "x",
                                 "ports": [{"containerPort": 80, "bogus": True}],
                                 "resources": {"limits": {"cpu": "1"}}}],
                 "bar": {}},
    }
    assert fv.unknown_fields(pod, POD) == [
        "metadata.foo", "spec.containers[0].imagePullPolice", "spec.containers[0].ports[0].bogus", "spec.bar"]


def test_int_or_string_and_raw_extension_are_not_descended():
    svc = schemas.definition("io.k8s.api.core.v1.Service")
    assert fv.unknown_fields({"spec": {"ports": [{"port": 80, "targetPort": "http"}]}}, svc) == []
    we = schemas.definition("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent")
    assert fv.unknown_fields({"type": "ADDED", "object": {"whatever": {"x": 1}}}, we) == []


def test_strict_raises_upstream_wording():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"foo": 1}}
    with pytest.raises(StatusError) as e:
        fv.enforce(pod, ["metadata.name"], POD, fv.STRICT, kind="Pod", version="v1")
    assert e.value.code == 400 and e.value.reason == "BadRequest"
    assert e.value.message == ('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                               'duplicate field "metadata.name", unknown field "spec.foo"')


def test_warn_drops_and_returns_texts_ignore_drops_silently():
    pod = {"metadata": {"name": "p"}, "spec": {"foo": 1, "containers": []}}
    assert fv.enforce(pod, [], POD, fv.WARN, kind="Pod", version="v1") == ['unknown field "spec.foo"']
    assert "foo" not in pod["spec"]
    pod = {"metadata": {"name": "p", "zzz": 2}}
    assert fv.enforce(pod, [], POD, fv.IGNORE, kind="Pod", version="v1") == []
    assert pod == {"metadata": {"name": "p"}}


def test_directive_default_and_invalid():
    assert fv.directive({}) == "Warn"
    assert fv.directive({"fieldValidation": "Strict"}) == "Strict"
    with pytest.raises(StatusError) as e:
        fv.directive({"fieldValidation": "strictly"}, "PatchOptions")
    assert e.value.code == 422 and e.value.kind == "PatchOptions"


def test_warning_header_quotes():
    assert fv.warning_header('unknown field "spec.foo"') == '299 - "unknown field \\"spec.foo\\""'


def test_patched_objects_fail_without_the_kind_prefix():
    pod = {"metadata": {"name": "p"}, "spec": {"foo": 1}}
    with pytest.raises(StatusError) as e:
        fv.enforce_patched(pod, [], POD, fv.STRICT)
    assert e.value.message == 'strict decoding error: unknown field "spec.foo"'
    assert fv.enforce_patched(pod, ["spec"], POD, fv.WARN) == ['duplicate field "spec"', 'unknown field "spec.foo"']
    assert pod == {"metadata": {"name": "p"}, "spec": {}}


def test_yaml_duplicate_text_names_lines():
    body = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '1'\n  a: '2'\n"
    assert fv.yaml_duplicate_error(body) == (
        'error converting YAML to JSON: yaml: unmarshal errors:\n  line 5: key "a" already set in map')
    assert fv.yaml_duplicate_error(b'{"a": 1, "a": 2}') == (
        'error converting YAML to JSON: yaml: unmarshal errors:\n  line 1: key "a" already set in map')
    assert fv.yaml_duplicate_error(b"a: 1\n") is None


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
def test_problems_are_reported_in_document_order(content_type):
    # as upstream's conformance test expects: the unknown field comes first because it comes first
    body = (b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},'
            b'"spec":{"unknownField":"foo","restartPolicy":"Always","restartPolicy":"Never","containers":[]}}')
    obj, dups = fv.decode_strict(body, content_type)
    with pytest.raises(StatusError) as e:
        fv.enforce(obj, dups, POD, fv.STRICT, kind="Pod", version="v1")
    assert e.value.message.endswith(
        'strict decoding error: unknown field "spec.unknownField", duplicate field "spec.restartPolicy"')


def test_empty_metadata_maps_and_lists_do_not_survive_decoding():
    pod = {"metadata": {"name": "p", "annotations": {}, "labels": {}, "finalizers": []},
           "spec": {"containers": [{"name": "c", "ports": []}], "volumes": []}}
    fv.enforce(pod, [], POD, fv.STRICT, kind="Pod", version="v1")
    assert pod == {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "ports": []}], "volumes": []}}
    patched = {"metadata": {"name": "p", "annotations": {}}}
    fv.enforce_patched(patched, [], POD, fv.STRICT)
    assert patched == {"metadata": {"name": "p"}}
