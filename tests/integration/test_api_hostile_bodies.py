"""Hostile bodies (issue 20) get a 4xx Status naming the problem, never a 500 or a stall.

Alias bombs, bodies nested past the depth bound on every write path, values of the
wrong type where code downstream needs a shape, text that is not UTF-8, numbers
JSON cannot carry, and repeated keys per fieldValidation.
"""
from __future__ import annotations

import ssl
import threading

import httpx
import pytest
import yaml

from apiserver.machinery.decoding import MAX_DEPTH

CM = "/api/v1/namespaces/default/configmaps"
JSON, YAML = "application/json", "application/yaml"

BILLION_LAUGHS = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: yaml-bomb
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _status(r: httpx.Response, code: int, reason: str, *words: str) -> dict:
    assert r.status_code == code, r.text
    body = r.json()
    assert (body["kind"], body["code"], body.get("reason")) == ("Status", code, reason), body
    for w in words:
        assert w in body["message"], body["message"]
    return body


@pytest.fixture(scope="module")
def target(admin_http):
    admin_http.post(CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hostile-target"},
                              "data": {"k": "v"}})
    yield CM + "/hostile-target"
    admin_http.delete(CM + "/hostile-target")


def test_yaml_alias_bomb_is_refused_while_others_are_served(admin_http, server):
    other = httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)), timeout=30,
                         headers={"Authorization": f"Bearer {server.token}"})
    got: dict = {}
    t = threading.Thread(target=lambda: got.update(r=other.get(CM)))
    t.start()
    _status(admin_http.post(CM, content=BILLION_LAUGHS, headers={"content-type": YAML}), 400, "BadRequest",
            "excessive aliasing")
    t.join()
    other.close()
    assert got["r"].status_code == 200
    assert admin_http.get("/readyz").status_code == 200


def test_a_large_yaml_body_is_decoded_while_others_are_served(admin_http, server):
    """Ordering, not timing: a GET sent while a ~250 KB YAML body decodes is answered before it
    (small enough for etcd's 1.5 MiB value limit with its managedFields)."""
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big-yaml"},
           "data": {f"k{i}": "v" for i in range(20_000)}}
    body = yaml.safe_dump(doc).encode()
    order: list[str] = []
    started = threading.Event()

    def post():
        with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)),
                          timeout=120,
                          headers={"Authorization": f"Bearer {server.token}"}) as c:
            started.set()
            r = c.post(CM, content=body, headers={"content-type": YAML})
            order.append(f"post {r.status_code}")

    t = threading.Thread(target=post)
    t.start()
    started.wait()
    while not order:   # keep asking until the POST is done: some GET must land during its decode
        r = admin_http.get("/readyz")
        assert r.status_code == 200
        order.append("get") if not order else None
    t.join()
    assert order[0] == "get" and order[-1] == "post 201", order
    assert admin_http.delete(CM + "/big-yaml").status_code == 200


def deep_object(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000])
@pytest.mark.parametrize("how", ["create-json", "create-yaml", "merge", "strategic", "json-patch", "apply"])
def test_bodies_nested_past_the_bound_are_400(admin_http, target, how, depth):
    deep = deep_object(depth)
    cm = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":%s}'
    requests = {
        "create-json": ("POST", CM, cm % deep, JSON),
        "create-yaml": ("POST", CM, b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + deep, YAML),
        "merge": ("PATCH", target, b'{"data":%s}' % deep, "application/merge-patch+json"),
        "strategic": ("PATCH", target, b'{"data":%s}' % deep, "application/strategic-merge-patch+json"),
        "json-patch": ("PATCH", target, b'[{"op":"add","path":"/data/x","value":%s}]' % deep,
                       "application/json-patch+json"),
        "apply": ("PATCH", target + "?fieldManager=t",
                  b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hostile-target"},"data":%s}' % deep,
                  "application/apply-patch+yaml"),
    }
    method, url, body, ctype = requests[how]
    st = _status(admin_http.request(method, url, content=body, headers={"content-type": ctype}), 400, "BadRequest")
    assert "depth" in st["message"], st["message"]


@pytest.mark.parametrize("how", ["create-json", "create-yaml", "merge", "strategic", "json-patch", "apply"])
def test_a_body_as_deep_as_the_bound_is_accepted(admin_http, target, how):
    """At MAX_DEPTH everything after decoding (field validation, patches, managed fields) still
    works. No served kind keeps free-form data yet, so the deep part is an unknown field,
    dropped with a warning (apply refuses it, as upstream, once it has read it all)."""
    deep = deep_object(MAX_DEPTH - 1)   # the object itself is one level
    create = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-ok"},"x":%s}' % deep
    requests = {
        "create-json": ("POST", CM + "?dryRun=All", create, JSON),
        "create-yaml": ("POST", CM + "?dryRun=All", create, YAML),
        "merge": ("PATCH", target, b'{"x":%s}' % deep, "application/merge-patch+json"),
        "strategic": ("PATCH", target, b'{"x":%s}' % deep, "application/strategic-merge-patch+json"),
        "json-patch": ("PATCH", target, b'[{"op":"add","path":"/x","value":%s}]' % deep_object(MAX_DEPTH - 2),
                       "application/json-patch+json"),
        "apply": ("PATCH", target + "?fieldManager=deep&fieldValidation=Ignore",
                  b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hostile-target"},"x":%s}' % deep,
                  "application/apply-patch+yaml"),
    }
    method, url, body, ctype = requests[how]
    r = admin_http.request(method, url, content=body, headers={"content-type": ctype})
    if how == "apply":
        _status(r, 400, "BadRequest", ".x: field not declared in schema")
        return
    assert r.status_code in (200, 201), r.text
    assert "x" not in r.json()


@pytest.mark.parametrize("meta,field", [
    ({"name": 5}, "metadata.name"), ({"name": ["a"]}, "metadata.name"), ({"generateName": 7}, "metadata.generateName"),
    ({"name": "x", "labels": "a=b"}, "metadata.labels"), ({"name": "x", "namespace": {}}, "metadata.namespace"),
])
def test_metadata_of_the_wrong_type_is_400_naming_it(admin_http, meta, field):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    _status(admin_http.post(CM, json=body), 400, "BadRequest", "cannot unmarshal", field)


@pytest.mark.parametrize("kind,url", [("Namespace", "/api/v1/namespaces"), ("Node", "/api/v1/nodes")])
def test_a_spec_that_is_a_string_is_400(admin_http, kind, url):
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "zz-spec"}, "spec": "zz"}
    _status(admin_http.post(url, json=body), 400, "BadRequest", f"{kind}.spec", "cannot unmarshal string")


def test_a_merge_patch_that_gives_a_field_the_wrong_type_is_400(admin_http, target):
    r = admin_http.patch(target, json={"metadata": {"labels": ["x"]}},
                         headers={"content-type": "application/merge-patch+json"})
    _status(r, 400, "BadRequest", "metadata.labels")


def test_a_name_with_a_lone_surrogate_gets_a_json_status(admin_http):
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a\\ud800b"}}'
    st = _status(admin_http.post(CM, content=body, headers={"content-type": JSON}), 422, "Invalid", "metadata.name")
    assert "a\ufffdb" in st["message"]   # replaced as Go's decoder does
    r = admin_http.get(CM + "/%ED%A0%80")
    _status(r, 404, "NotFound")


@pytest.mark.parametrize("preconditions", ['"zz"', "[1]", "5"])
def test_delete_options_whose_preconditions_is_not_an_object_is_400(admin_http, target, preconditions):
    body = b'{"kind":"DeleteOptions","apiVersion":"v1","preconditions":%s}' % preconditions.encode()
    r = admin_http.request("DELETE", target, content=body, headers={"content-type": JSON})
    _status(r, 400, "BadRequest", "DeleteOptions.preconditions")
    assert admin_http.get(target).status_code == 200


@pytest.mark.parametrize("body,ctype,words", [
    (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"},"data":{"a":NaN}}', JSON, ["'N'"]),
    (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"},"x":Infinity}', JSON, ["'I'"]),
    (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"},"x":-Infinity}', JSON, ["'I'"]),
    (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"},"x":1e999}', JSON, ["1e999"]),
    (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\nx: .nan\n", YAML, ["NaN"]),
    (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\nx: -.inf\n", YAML, ["-Inf"]),
])
def test_nan_and_infinity_are_400(admin_http, body, ctype, words):
    _status(admin_http.post(CM, content=body, headers={"content-type": ctype}), 400, "BadRequest", *words)


DUPLICATED = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dups"},"data":{"a":"1","a":"2"}}'


def test_duplicate_keys_fail_under_strict_and_warn_under_warn(admin_http):
    _status(admin_http.post(CM + "?fieldValidation=Strict", content=DUPLICATED, headers={"content-type": JSON}),
            400, "BadRequest", 'duplicate field "data.a"')
    r = admin_http.post(CM + "?fieldValidation=Warn&dryRun=All", content=DUPLICATED, headers={"content-type": JSON})
    assert r.status_code == 201 and r.json()["data"] == {"a": "2"}
    assert r.headers.get_list("warning") == ['299 - "duplicate field \\"data.a\\""']
    yaml_dups = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dups}\ndata:\n  a: '1'\n  a: '2'\n"
    _status(admin_http.post(CM + "?fieldValidation=Strict", content=yaml_dups, headers={"content-type": YAML}),
            400, "BadRequest", 'duplicate field "data.a"')


@pytest.mark.parametrize("sub,body,field", [
    ("binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "typed"}, "target": "node-1"},
     "Binding.target"),
    ("binding", {"apiVersion": "v1", "kind": "Binding", "metadata": "typed", "target": {"name": "n"}},
     "Binding.metadata"),
    ("eviction", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "typed"},
                  "deleteOptions": "now"}, "Eviction.deleteOptions"),
    ("eviction", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "typed"},
                  "deleteOptions": {"preconditions": "x"}}, "DeleteOptions.deleteOptions.preconditions"),
    ("eviction", {"metadata": 5}, "Eviction.metadata"),
])
def test_subresource_bodies_of_the_wrong_type_are_400(admin_http, namespace, sub, body, field):
    pods = f"/api/v1/namespaces/{namespace}/pods"
    r = admin_http.post(pods, json={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typed"},
                                    "spec": {"containers": [{"name": "c", "image": "x"}]}})
    assert r.status_code == 201, r.text
    _status(admin_http.post(f"{pods}/typed/{sub}", json=body), 400, "BadRequest", field, "cannot unmarshal")
    assert admin_http.get(f"{pods}/typed").status_code == 200


def test_a_scale_patch_of_the_wrong_type_is_400(admin_http, namespace):
    deployments = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    r = admin_http.post(deployments, json={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    assert r.status_code == 201, r.text
    r = admin_http.patch(f"{deployments}/d/scale", content=b'{"spec":"x"}',
                         headers={"content-type": "application/strategic-merge-patch+json"})
    _status(r, 400, "BadRequest", "Scale.spec", "cannot unmarshal string")
