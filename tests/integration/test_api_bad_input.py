"""Bad input gets a Kubernetes Status with upstream's reason and wording, never a 500 or a hang."""
from __future__ import annotations

import httpx
import pytest


CM = "/api/v1/namespaces/default/configmaps"
JSON = {"content-type": "application/json"}


def _status(r: httpx.Response, code: int, reason: str) -> dict:
    assert r.status_code == code, r.text
    body = r.json()
    assert (body["kind"], body["status"], body["code"], body.get("reason")) == ("Status", "Failure", code, reason)
    return body


def test_unknown_resource_and_object_are_404(admin_http):
    assert _status(admin_http.get("/api/v1/foos"), 404, "NotFound")["message"] == \
        "the server could not find the requested resource"
    assert _status(admin_http.get(CM + "/nope"), 404, "NotFound")["message"] == 'configmaps "nope" not found'
    assert _status(admin_http.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/nope"), 404,
                   "NotFound")["message"] == 'leases.coordination.k8s.io "nope" not found'
    _status(admin_http.get("/apis/nothing.example.com/v1"), 404, "NotFound")


def test_unsupported_verb_is_405(admin_http):
    _status(admin_http.delete("/api/v1/namespaces"), 405, "MethodNotAllowed")
    _status(admin_http.put("/api/v1/namespaces/default/bindings/x", content=b"{}", headers=JSON), 405,
            "MethodNotAllowed")


def test_unknown_body_format_is_415(admin_http):
    _status(admin_http.post(CM, content=b"x", headers={"content-type": "text/plain"}), 415, "UnsupportedMediaType")
    _status(admin_http.patch(CM + "/x", content=b"{}", headers={"content-type": "application/xml"}), 415,
            "UnsupportedMediaType")


def test_nothing_acceptable_is_406(admin_http):
    _status(admin_http.get(CM, headers={"accept": "application/vnd.kubernetes.protobuf"}), 406, "NotAcceptable")
    _status(admin_http.get(CM, headers={"accept": "text/html"}), 406, "NotAcceptable")


@pytest.mark.parametrize("body,ctype,text", [
    (b'{"apiVersion":', "application/json", "couldn't get version/kind; json parse error"),
    (b"a: [\n", "application/yaml", "error converting YAML to JSON"),
    (b"[1, 2]", "application/json", "couldn't get version/kind"),
])
def test_malformed_bodies_are_400(admin_http, body, ctype, text):
    assert text in _status(admin_http.post(CM, content=body, headers={"content-type": ctype}), 400, "BadRequest")["message"]


def test_body_over_3MiB_is_413(admin_http):
    big = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"' + b"x" * (3 << 20) + b'"}}'
    _status(admin_http.post(CM, content=big, headers=JSON), 413, "RequestEntityTooLarge")


def test_wrong_kind_or_version_for_the_url_is_400(admin_http):
    msg = _status(admin_http.post(CM, json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}), 400,
                  "BadRequest")["message"]
    assert "ConfigMap" in msg and "Secret" in msg
    assert _status(admin_http.post(CM, json={"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "x"}}), 400,
                   "BadRequest")["message"] == \
        "the API version in the data (v2) does not match the expected API version (v1)"


def test_namespace_mismatch_is_400(admin_http):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}
    assert _status(admin_http.post(CM, json=body), 400, "BadRequest")["message"] == \
        "the namespace of the provided object does not match the namespace sent on the request"


def test_invalid_name_is_422_with_cause(admin_http):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}
    st = _status(admin_http.post(CM, json=body), 422, "Invalid")
    assert st["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"')
    assert st["details"]["causes"][0]["field"] == "metadata.name"


def test_patch_of_missing_object_is_404(admin_http):
    r = admin_http.patch(CM + "/missing", content=b"{}", headers={"content-type": "application/merge-patch+json"})
    _status(r, 404, "NotFound")


def test_bad_query_parameters_are_400(admin_http):
    _status(admin_http.get(CM, params={"labelSelector": "a in (b"}), 400, "BadRequest")
    _status(admin_http.get(CM, params={"limit": "x"}), 400, "BadRequest")
    _status(admin_http.get(CM, params={"continue": "garbage"}), 400, "BadRequest")
    # decodable options that fail validation are 422 on the options kind, as upstream
    st = _status(admin_http.post(CM, params={"dryRun": "Some"}, json={"metadata": {"name": "d"}}), 422, "Invalid")
    assert st["details"]["kind"] == "CreateOptions" and st["details"]["causes"][0]["field"] == "dryRun"


def test_stale_precondition_on_delete_is_409(admin_http):
    admin_http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pre"}})
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}}
    st = _status(admin_http.request("DELETE", CM + "/pre", json=body), 409, "Conflict")
    assert "Precondition failed: UID in precondition: not-the-uid" in st["message"]
    assert admin_http.delete(CM + "/pre").status_code == 200
