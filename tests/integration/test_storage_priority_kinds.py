"""The storage, priority and runtime class kinds through kubectl and the official client:
`kubectl get` tables as upstream prints them, the admission plugins' effects, 422s naming the field."""
from __future__ import annotations

import json
import uuid

import pytest
from kubernetes import client

MANIFEST = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {{name: {sc}}}
provisioner: example.com/none
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {pv}}}
spec:
  capacity: {{storage: 2Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: {sc}
  hostPath: {{path: /tmp/{pv}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: {ns}}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: {sc}
  resources: {{requests: {{storage: 1Gi}}}}
"""


def test_kubectl_get_pv_pvc_sc_tables(kubectl, namespace):
    sc, pv = f"sc-{uuid.uuid4().hex[:6]}", f"pv-{uuid.uuid4().hex[:6]}"
    kubectl("apply", "-f", "-", input=MANIFEST.format(sc=sc, pv=pv, ns=namespace))
    try:
        out = kubectl("get", "pv", pv).stdout.splitlines()
        assert out[0].split() == ["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM",
                                  "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]
        assert out[1].split()[:6] == [pv, "2Gi", "RWO", "Retain", "Pending", sc] or \
            out[1].split()[:5] == [pv, "2Gi", "RWO", "Retain", "Available"]
        out = kubectl("get", "pvc", "-n", namespace, "-o", "wide").stdout.splitlines()
        assert out[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
                                  "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE"]
        assert out[1].split()[:3] == ["data", "Pending", sc]
        out = kubectl("get", "sc", sc).stdout.splitlines()
        assert out[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                                  "ALLOWVOLUMEEXPANSION", "AGE"]
        assert out[1].split()[:5] == [sc, "example.com/none", "Delete", "WaitForFirstConsumer", "false"]
        claim = json.loads(kubectl("get", "pvc", "data", "-n", namespace, "-o", "json").stdout)
        assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
        assert claim["spec"]["volumeMode"] == "Filesystem"
    finally:
        kubectl("delete", "pvc", "data", "-n", namespace, "--wait=false", check=False)
        kubectl("delete", "pv", pv, "--wait=false", check=False)
        kubectl("delete", "sc", sc, check=False)


def test_kubectl_priorityclasses_and_runtimeclasses(kubectl):
    out = kubectl("get", "priorityclasses").stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert out.splitlines()[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert lines["system-node-critical"][1:3] == ["2000001000", "false"]
    assert lines["system-cluster-critical"][1:3] == ["2000000000", "false"]
    cp = kubectl("delete", "pc", "system-node-critical", check=False)
    assert cp.returncode != 0 and "is a system priority class and cannot be deleted" in cp.stderr
    name = f"rc-{uuid.uuid4().hex[:6]}"
    kubectl("apply", "-f", "-", input=f"apiVersion: node.k8s.io/v1\nkind: RuntimeClass\n"
                                      f"metadata: {{name: {name}}}\nhandler: runc\n")
    try:
        out = kubectl("get", "runtimeclass", name).stdout.splitlines()
        assert out[0].split() == ["NAME", "HANDLER", "AGE"] and out[1].split()[:2] == [name, "runc"]
    finally:
        kubectl("delete", "runtimeclass", name)


def test_client_bad_input_names_the_field(api_client, namespace):
    core = client.CoreV1Api(api_client)
    with pytest.raises(client.ApiException) as err:
        core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "bad"}, "spec": {
            "accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "0"}}}})
    body = json.loads(err.value.body)
    assert err.value.status == 422
    assert {c["field"] for c in body["details"]["causes"]} >= {"spec.accessModes", "spec.resources[storage]"}
    sched = client.SchedulingV1Api(api_client)
    name = f"pc-{uuid.uuid4().hex[:6]}"
    sched.create_priority_class({"metadata": {"name": name}, "value": 100, "preemptionPolicy": "Never"})
    try:
        pod = core.create_namespaced_pod(namespace, {"metadata": {"name": "p"}, "spec": {
            "priorityClassName": name, "containers": [{"name": "c", "image": "localhost/busybox"}]}})
        assert (pod.spec.priority, pod.spec.preemption_policy) == (100, "Never")
        with pytest.raises(client.ApiException) as err:
            core.create_namespaced_pod(namespace, {"metadata": {"name": "q"}, "spec": {
                "priorityClassName": "no-such-class", "containers": [{"name": "c", "image": "localhost/busybox"}]}})
        assert err.value.status == 403
        assert json.loads(err.value.body)["message"] == \
            'pods "q" is forbidden: no PriorityClass with name no-such-class was found'
    finally:
        sched.delete_priority_class(name)
