"""An operator written with kopf (from PyPI) runs against pocketkube: it watches its
custom resource, creates a ConfigMap per object and writes status; the test sees both."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

OPERATOR = Path(__file__).parent.parent / "operators" / "configmap_per_object.py"
GROUP = "ops.pocketkube.test"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"greetings.{GROUP}"},
    "spec": {
        "group": GROUP, "scope": "Namespaced",
        "names": {"plural": "greetings", "singular": "greeting", "kind": "Greeting", "shortNames": ["gr"]},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"message": {"type": "string"}}},
                # kopf keeps its progress under status: it must survive pruning
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}


def _until(what, fn, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def operator(server, kubectl, tmp_path):
    pytest.importorskip("kopf")
    kubectl("apply", "-f", "-", input=yaml.safe_dump(CRD))
    kubectl("wait", "--for=condition=Established", f"crd/greetings.{GROUP}", "--timeout=30s")
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig), "HOME": str(tmp_path)}
    log = (tmp_path / "kopf.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces",
                             "--verbose", str(OPERATOR)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc, tmp_path / "kopf.log"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        kubectl("delete", "crd", f"greetings.{GROUP}", "--wait=true", check=False)


def test_kopf_operator_creates_a_configmap_per_object_and_writes_status(operator, api_client, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    proc, log = operator
    custom, core = client.CustomObjectsApi(api_client), client.CoreV1Api(api_client)
    name = f"hello-{uuid.uuid4().hex[:6]}"
    custom.create_namespaced_custom_object(GROUP, "v1", namespace, "greetings", {
        "apiVersion": f"{GROUP}/v1", "kind": "Greeting", "metadata": {"name": name},
        "spec": {"message": "hello from kopf"}})

    def configmap():
        try:
            return core.read_namespaced_config_map(name, namespace)
        except ApiException as e:
            if e.status == 404:
                assert proc.poll() is None, f"kopf exited:\n{log.read_text()}"
                return None
            raise

    cm = _until("the operator's ConfigMap", configmap)
    assert cm.data == {"message": "hello from kopf"}
    assert [(o.kind, o.name) for o in cm.metadata.owner_references] == [("Greeting", name)]

    def status():
        obj = custom.get_namespaced_custom_object(GROUP, "v1", namespace, "greetings", name)
        return obj.get("status", {}).get("phase") == "Ready" and obj["status"]
    st = _until("the operator's status", status)
    assert st["configMap"] == name

    custom.patch_namespaced_custom_object(GROUP, "v1", namespace, "greetings", name,
                                          {"spec": {"message": "changed"}})
    _until("the ConfigMap to follow the update", lambda: configmap().data == {"message": "changed"})
    _until("status.observedMessage", lambda: custom.get_namespaced_custom_object(
        GROUP, "v1", namespace, "greetings", name).get("status", {}).get("observedMessage") == "changed")
    assert proc.poll() is None, log.read_text()
