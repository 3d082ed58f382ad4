"""The pure parts of webhook conversion: the review sent, the answer read, each
converted object checked and its metadata restored, worded as upstream."""
import pytest

from apiserver.registry.customresources import conversion
from apiserver.registry.customresources.conversion import ConversionError

ORIGINAL = {"apiVersion": "g.io/v1", "kind": "K", "metadata": {
    "name": "a", "namespace": "ns", "uid": "u1", "generation": 2, "labels": {"x": "1"}}, "spec": {"p": 1}}


def _converted(**meta):
    return {"apiVersion": "g.io/v2", "kind": "K", "metadata": {**ORIGINAL["metadata"], **meta}, "spec": {"q": 1}}


@pytest.mark.parametrize("versions, sent", [
    (["v1", "v1beta1"], "apiextensions.k8s.io/v1"),
    (["v9", "v1beta1"], "apiextensions.k8s.io/v1beta1"),
])
def test_review_uses_the_first_version_we_speak(versions, sent):
    r = conversion.review(versions, [ORIGINAL], "g.io/v2", "uid-1")
    assert r == {"apiVersion": sent, "kind": "ConversionReview",
                 "request": {"uid": "uid-1", "desiredAPIVersion": "g.io/v2", "objects": [ORIGINAL]}}


def test_review_without_a_version_we_speak():
    with pytest.raises(ConversionError, match="^no supported conversion review versions$"):
        conversion.review(["v9"], [], "g.io/v2", "u")


V1 = "apiextensions.k8s.io/v1"
OK = {"uid": "u", "result": {"status": "Success"}, "convertedObjects": [1]}


@pytest.mark.parametrize("body, version, message", [
    ({"apiVersion": "x/v1", "kind": "ConversionReview", "response": OK}, V1,
     "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got x/v1, Kind=ConversionReview"),
    ({"apiVersion": V1, "kind": "ConversionReview"}, V1, "no response provided"),
    ({"apiVersion": V1, "kind": "ConversionReview", "response": {**OK, "uid": "v"}}, V1,
     'expected response.uid="u", got "v"'),
    ({"apiVersion": V1, "kind": "ConversionReview", "response": {**OK, "result": {"status": "Failure"}}}, V1,
     "response.result.status was 'Failure', not 'Success'"),
    ({"apiVersion": V1, "kind": "ConversionReview",
      "response": {**OK, "result": {"status": "Failure", "message": "no way"}}}, V1, "no way"),
])
def test_malformed_answers(body, version, message):
    with pytest.raises(ConversionError) as e:
        conversion.converted_objects(body, "u", version)
    assert str(e.value) == message


def test_v1beta1_answers_are_not_checked_for_kind_and_uid():
    body = {"response": {**OK, "uid": "other"}}
    assert conversion.converted_objects(body, "u", "apiextensions.k8s.io/v1beta1") == [1]


@pytest.mark.parametrize("converted, message", [
    ({**_converted(), "apiVersion": "g.io/v3"}, "invalid groupVersion (expected g.io/v2, received g.io/v3)"),
    ({**_converted(), "kind": "L"}, "invalid kind (expected K, received L)"),
    (_converted(name="b"), "must have the same name: a != b"),
    (_converted(namespace="other"), "must have the same namespace: ns != other"),
    (_converted(uid="u2"), "must have the same UID: u1 != u2"),
])
def test_converted_object_keeps_its_identity(converted, message):
    with pytest.raises(ConversionError) as e:
        conversion.checked(ORIGINAL, converted, "g.io/v2")
    assert str(e.value) == message


def test_only_labels_and_annotations_may_change():
    out = conversion.restore_metadata(ORIGINAL, _converted(generation=7, labels={"y": "2"},
                                                           annotations={"a": "b"}, finalizers=["f"]))
    assert out["metadata"] == {"name": "a", "namespace": "ns", "uid": "u1", "generation": 2,
                               "labels": {"y": "2"}, "annotations": {"a": "b"}}
    assert out["spec"] == {"q": 1}
    dropped = conversion.restore_metadata(ORIGINAL, {"metadata": {"name": "a"}})
    assert "labels" not in dropped["metadata"]


@pytest.mark.parametrize("converted, message", [
    ({"apiVersion": "g.io/v2"}, "missing metadata in converted object"),
    ({"metadata": "x"}, "invalid metadata of type string in converted object"),
    ({"metadata": {"labels": ["x"]}}, "invalid metadata.labels of type []interface {} in converted object"),
    ({"metadata": {"labels": {"k": 1}}}, "metadata.labels[k] must be a string, but is int64 in converted object"),
    ({"metadata": {"labels": {"k": "bad value!"}}}, 'metadata.labels: Invalid value: "bad value!": '),
])
def test_bad_metadata_from_the_webhook(converted, message):
    with pytest.raises(ConversionError) as e:
        conversion.restore_metadata(ORIGINAL, converted)
    assert str(e.value).startswith(message)
