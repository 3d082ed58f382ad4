"""fieldValidation=Strict|Warn|Ignore through kubectl and the Python client."""
from __future__ import annotations

import json

import pytest

BAD_POD = """apiVersion: v1
kind: Pod
metadata:
  name: typo
  foo: 1
spec:
  containers:
  - name: c
    image: busybox
    imagePullPolice: Always
"""


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_kubectl_strict_rejects_typos_with_upstream_text(kubectl, namespace, version):
    cp = kubectl("create", "-n", namespace, "-f", "-", version=version, input=BAD_POD, check=False)
    assert cp.returncode != 0
    assert ('Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled '
            'as a Pod: strict decoding error: unknown field "metadata.foo", unknown field '
            '"spec.containers[0].imagePullPolice"') in cp.stderr


def test_kubectl_warn_and_ignore(kubectl, namespace):
    cp = kubectl("create", "-n", namespace, "-f", "-", "--validate=warn", input=BAD_POD)
    assert 'Warning: unknown field "metadata.foo"' in cp.stderr
    assert 'unknown field "spec.containers[0].imagePullPolice"' in cp.stderr
    pod = BAD_POD.replace("name: typo", "name: ignored")
    cp = kubectl("create", "-n", namespace, "-f", "-", "--validate=false", input=pod)
    assert "Warning" not in cp.stderr


def _cm(name: str, **extra) -> dict:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}}
    body.update(extra)
    return body


def _raw(api_client, method: str, path: str, body, **query):
    """A request through the official client's transport, with a body its models would refuse."""
    req = api_client.param_serialize(method, path, query_params=list(query.items()), body=body,
                                     header_params={"Content-Type": "application/json", "Accept": "application/json"},
                                     auth_settings=["BearerToken"])
    resp = api_client.call_api(*req)
    resp.read()
    return resp.status, json.loads(resp.data), resp.getheaders()


def test_python_client_field_validation(api_client, namespace):
    from kubernetes import client

    path = f"/api/v1/namespaces/{namespace}/configmaps"
    status, body, _ = _raw(api_client, "POST", path, _cm("strict", spec={"x": 1}), fieldValidation="Strict")
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                               'unknown field "spec"')
    status, body, headers = _raw(api_client, "POST", path, _cm("warned", spec={"x": 1}))  # default: Warn
    assert status == 201 and "spec" not in body
    assert headers.get("warning") == '299 - "unknown field \\"spec\\""'
    status, body, _ = _raw(api_client, "POST", path, _cm("ignored", spec={"x": 1}), fieldValidation="Ignore")
    assert status == 201 and "spec" not in body
    # the typed client sends the parameter too
    core = client.CoreV1Api(api_client)
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="typed"),
                                                                         data={"a": "b"}),
                                           field_validation="Strict")
    assert cm.data == {"a": "b"}
    update = _cm("typed", bogus=True)
    update["metadata"]["resourceVersion"] = cm.metadata.resource_version
    status, body, _ = _raw(api_client, "PUT", f"{path}/typed", update, fieldValidation="Strict")
    assert status == 400 and body["message"].endswith('unknown field "bogus"')


def test_duplicate_fields_are_reported(server, namespace):
    import ssl

    import httpx

    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"},"data":{"a":"1"}}'
    with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)), timeout=30,
                      headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}) as c:
        r = c.post(f"/api/v1/namespaces/{namespace}/configmaps?fieldValidation=Strict", content=body)
        assert r.status_code == 400
        assert r.json()["message"].endswith('strict decoding error: duplicate field "metadata.name"')
        r = c.post(f"/api/v1/namespaces/{namespace}/configmaps?fieldValidation=Warn", content=body)
        assert r.status_code == 201
        assert r.headers["warning"] == '299 - "duplicate field \\"metadata.name\\""'


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_client_side_apply_patch_is_validated(kubectl, namespace, version):
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa-typo\ndata:\n  a: '1'\n"
    kubectl("apply", "-n", namespace, "-f", "-", version=version, input=good)
    typo = good.replace("  name: csa-typo\n", "  name: csa-typo\n  bogus: 2\n").replace("'1'", "'2'")
    cp = kubectl("apply", "-n", namespace, "-f", "-", version=version, input=typo, check=False)
    assert cp.returncode != 0
    assert 'strict decoding error: unknown field "metadata.bogus"' in cp.stderr
    cp = kubectl("apply", "-n", namespace, "-f", "-", "--validate=warn", version=version, input=typo)
    assert 'Warning: unknown field "metadata.bogus"' in cp.stderr
