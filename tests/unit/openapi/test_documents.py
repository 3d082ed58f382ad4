"""The OpenAPI documents: shapes kubectl and client generators rely on."""
import orjson
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from apiserver.http.openapi import documents, routes
from apiserver.http.openapi.components import convert


def _refs(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.add(node["$ref"])
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


@pytest.fixture(scope="module")
def core():
    return orjson.loads(documents.v3_documents()["api/v1"].body)


def test_index_lists_every_group_version_with_its_hash():
    index = orjson.loads(documents.v3_index().body)["paths"]
    assert "api/v1" in index and "apis/coordination.k8s.io/v1" in index
    doc = documents.v3_documents()["api/v1"]
    assert index["api/v1"]["serverRelativeURL"] == f"/openapi/v3/api/v1?hash={doc.hash}"


def test_patch_operation_declares_field_validation_for_its_kind(core):
    op = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert op["operationId"] == "patchCoreV1NamespacedPod"
    assert op["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert op["x-kubernetes-action"] == "patch"
    names = {p["name"] for p in op["parameters"]}
    assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= names
    assert "application/apply-patch+yaml" in op["requestBody"]["content"]


def test_upstream_style_operation_ids(core):
    p = core["paths"]
    assert p["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    assert p["/api/v1/namespaces/{namespace}/pods"]["delete"]["operationId"] == "deleteCoreV1CollectionNamespacedPod"
    assert p["/api/v1/namespaces/{name}"]["get"]["operationId"] == "readCoreV1Namespace"
    assert p["/api/v1/namespaces/{namespace}/pods/{name}/exec"]["post"]["operationId"] == "connectCoreV1PostNamespacedPodExec"
    assert p["/api/v1/namespaces/{namespace}/pods/{name}/status"]["put"]["operationId"] == "replaceCoreV1NamespacedPodStatus"
    assert p["/api/v1/watch/namespaces/{namespace}/pods"]["get"]["x-kubernetes-action"] == "watchlist"
    assert p["/api/v1/watch/pods"]["get"]["operationId"] == "watchCoreV1PodListForAllNamespaces"
    assert p["/api/v1/watch/namespaces/{name}"]["get"]["operationId"] == "watchCoreV1Namespace"
    lease = orjson.loads(documents.v3_documents()["apis/coordination.k8s.io/v1"].body)
    assert "readCoordinationV1NamespacedLease" in orjson.dumps(lease).decode()


def test_every_ref_resolves_and_no_null_types(core):
    schemas = core["components"]["schemas"]
    for ref in _refs(core, set()):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas
    assert '"null"' not in orjson.dumps(schemas).decode()
    assert "io.k8s.api.core.v1.Pod" in schemas
    # only what is reachable: no apps/v1 types in the core document
    assert not any(n.startswith("io.k8s.api.apps.") for n in schemas)


def test_conversion_keeps_descriptions_and_extensions():
    out = convert({"$ref": "#/$defs/X", "description": "d"})
    assert out == {"allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"}
    assert convert({"type": ["array", "null"], "x-kubernetes-list-type": "map"}) == {
        "type": "array", "x-kubernetes-list-type": "map"}
    int_or_string = {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]}
    assert convert(int_or_string) == {"format": "int-or-string", "oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert convert(int_or_string, "#/definitions/", wrap_refs=False) == {"type": "string", "format": "int-or-string"}


def test_v2_is_swagger_with_resolvable_refs():
    doc = orjson.loads(documents.v2_document().body)
    assert doc["swagger"] == "2.0"
    for ref in _refs(doc, set()):
        assert ref.removeprefix("#/definitions/") in doc["definitions"]
    op = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" and p["type"] == "string" for p in op["parameters"])
    assert op["parameters"][0]["in"] == "body"


@pytest.fixture(scope="module")
def client():
    return TestClient(Starlette(routes=routes()))


def test_etag_and_if_none_match(client):
    r = client.get("/openapi/v3")
    assert r.status_code == 200 and r.headers["etag"]
    assert client.get("/openapi/v3", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    url = r.json()["paths"]["api/v1"]["serverRelativeURL"]
    r = client.get(url)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_stale_hash_redirects_and_unknown_is_404(client):
    r = client.get("/openapi/v3/api/v1?hash=OLD", follow_redirects=False)
    assert r.status_code == 301 and "hash=" in r.headers["location"]
    r = client.get("/openapi/v3/apis/nope/v1")
    assert r.status_code == 404 and r.json()["kind"] == "Status"


def test_v2_json_and_protobuf_negotiation(client):
    assert client.get("/openapi/v2", headers={"Accept": "application/json"}).json()["swagger"] == "2.0"
    r = client.get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert r.status_code in (200, 406)


def _fields(buf: bytes):
    """A minimal protobuf reader: (field, wire, value) of one message level."""
    i, out = 0, []
    while i < len(buf):
        key, shift = 0, 0
        while True:
            b = buf[i]; i += 1
            key |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80:
                break
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, shift = 0, 0
            while True:
                b = buf[i]; i += 1
                v |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
        elif wire == 1:
            v = buf[i:i + 8]; i += 8
        else:
            n, shift = 0, 0
            while True:
                b = buf[i]; i += 1
                n |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            v = buf[i:i + n]; i += n
        out.append((field, wire, v))
    return out


def test_v2_protobuf_is_a_gnostic_document(client):
    r = client.get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert r.status_code == 200 and "@" not in r.headers["content-type"]
    top = _fields(r.content)
    assert top[0] == (1, 2, b"2.0")
    paths = _fields(next(v for f, _, v in top if f == 8))
    names = {_fields(v)[0][2].decode() for f, _, v in paths if f == 2}
    assert "/api/v1/namespaces/{namespace}/pods/{name}" in names
    definitions = _fields(next(v for f, _, v in top if f == 9))
    assert any(_fields(v)[0][2] == b"io.k8s.api.core.v1.Pod" for _, _, v in definitions)
