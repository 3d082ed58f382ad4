"""Byte fields through real clients: base64 with newlines is what kube-apiserver
stores (and answers canonically); what Go cannot decode is a 400 naming the kind."""
import base64
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _wrapped(raw: bytes) -> str:
    """What `base64` the command writes: lines of 76 characters, each ending in a newline."""
    return base64.encodebytes(raw).decode()


def test_secret_data_with_newlines_via_the_official_client(api_client, namespace):
    core = client.CoreV1Api(api_client)
    value = _wrapped(PEM * 4)
    assert "\n" in value.rstrip("\n")     # wrapped mid-value as well as at the end
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="tls"), type="kubernetes.io/tls",
                             data={"tls.crt": value, "tls.key": _wrapped(b"key\n")})
    created = core.create_namespaced_secret(namespace, secret)
    assert created.data["tls.crt"] == base64.b64encode(PEM * 4).decode()
    assert base64.b64decode(core.read_namespaced_secret("tls", namespace).data["tls.key"]) == b"key\n"


def test_configmap_binary_data_with_newline_via_kubectl(kubectl, namespace, tmp_path):
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bin", "namespace": namespace},
           "binaryData": {"blob": _wrapped(bytes(range(256)))}}
    path = tmp_path / "cm.json"
    path.write_text(json.dumps(doc))
    kubectl("apply", "--server-side", "-f", str(path))
    out = kubectl("get", "configmap", "bin", "-n", namespace, "-o", "jsonpath={.binaryData.blob}").stdout
    assert base64.b64decode(out, validate=True) == bytes(range(256))


def test_undecodable_secret_value_is_bad_request(api_client, namespace):
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as e:
        core.create_namespaced_secret(namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="bad"),
                                                                 data={"k": "no*pe"}))
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == \
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 2'
