"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386)."""
import pytest

from apiserver.machinery.patch import PatchError, json_patch, merge_patch

DOC = {"metadata": {"name": "x", "labels": {"a": "1"}}, "spec": {"list": [1, 2, 3]}}


def test_json_patch_ops():
    out = json_patch(DOC, [
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "9"},
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "add", "path": "/spec/list/-", "value": 4},
        {"op": "test", "path": "/metadata/name", "value": "x"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"},
        {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/c"},
    ])
    assert out == {"metadata": {"name": "x", "generateName": "x", "labels": {"a": "9", "c": "2"}},
                   "spec": {"list": [2, 3, 4]}}
    assert DOC["spec"]["list"] == [1, 2, 3]  # input untouched


def test_json_patch_escaped_pointer():
    out = json_patch({"metadata": {"annotations": {}}},
                     [{"op": "add", "path": "/metadata/annotations/example.com~1key", "value": "v"}])
    assert out["metadata"]["annotations"] == {"example.com/key": "v"}


@pytest.mark.parametrize("ops,code", [
    ({"op": "add"}, 400),
    ([1, 2], 400),
    ([{"op": "remove", "path": "/nope"}], 422),
    ([{"op": "test", "path": "/metadata/name", "value": "y"}], 422),
    ([{"op": "bogus", "path": "/a"}], 422),
    ([{"op": "add", "path": "no-slash", "value": 1}], 422),
    ([{"op": "replace", "path": "/spec/list/9", "value": 1}], 422),
    ([{"op": "replace", "path": "", "value": [1]}], 422),  # the result must stay an object
    ([{"op": "add", "path": "/a"}] * 10001, 413),
])
def test_json_patch_errors(ops, code):
    with pytest.raises(PatchError) as e:
        json_patch(DOC, ops)
    assert e.value.code == code


def test_merge_patch():
    out = merge_patch(DOC, {"metadata": {"labels": {"a": None, "b": "2"}}, "spec": {"list": [9]},
                            "status": {"x": {"y": None, "z": 1}}})
    assert out == {"metadata": {"name": "x", "labels": {"b": "2"}}, "spec": {"list": [9]},
                   "status": {"x": {"z": 1}}}
    assert DOC["metadata"]["labels"] == {"a": "1"}
    assert merge_patch(DOC, {"spec": None}) == {"metadata": DOC["metadata"]}


def test_merge_patch_must_be_object():
    with pytest.raises(PatchError) as e:
        merge_patch(DOC, [1])
    assert e.value.code == 400 and e.value.reason == "BadRequest"


def test_patch_error_is_a_status():
    from apiserver.machinery.errors import StatusError
    with pytest.raises(StatusError) as e:
        json_patch(DOC, [{"op": "remove", "path": "/nope"}])
    status = e.value.status()
    assert (status["code"], status["reason"], status["kind"]) == (422, "Invalid", "Status")
    with pytest.raises(ValueError):
        merge_patch(DOC, [])
