"""`kubectl get` columns for more kinds, as a real cluster prints them."""
from __future__ import annotations

import json


def header(kubectl, *args):
    return kubectl(*args).stdout.splitlines()[0].split()


def test_kind_tables(kubectl, namespace):
    kubectl("-n", namespace, "create", "configmap", "c1", "--from-literal=a=1", "--from-literal=b=2")
    kubectl("-n", namespace, "create", "secret", "generic", "s1", "--from-literal=a=1")
    kubectl("-n", namespace, "create", "quota", "q1", "--hard=pods=3,requests.cpu=1,limits.cpu=2")
    kubectl("-n", namespace, "create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l1"},
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}}))
    cm = kubectl("-n", namespace, "get", "configmap", "c1").stdout.splitlines()
    assert cm[0].split() == ["NAME", "DATA", "AGE"] and cm[1].split()[:2] == ["c1", "2"]
    sec = kubectl("-n", namespace, "get", "secret", "s1").stdout.splitlines()
    assert sec[0].split() == ["NAME", "TYPE", "DATA", "AGE"] and sec[1].split()[:3] == ["s1", "Opaque", "1"]
    q = kubectl("-n", namespace, "get", "quota", "q1").stdout.splitlines()
    assert q[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert "pods: 0/3, requests.cpu: 0/1" in q[1] and "limits.cpu: 0/2" in q[1]
    assert header(kubectl, "-n", namespace, "get", "limitrange") == ["NAME", "CREATED", "AT"]
    assert header(kubectl, "get", "namespace", namespace) == ["NAME", "STATUS", "AGE"]
    assert kubectl("get", "namespace", namespace).stdout.splitlines()[1].split()[1] == "Active"


def test_event_table(kubectl, namespace):
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"}, "type": "Warning", "reason": "Testing",
          "message": "hello", "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
          "source": {"component": "tester"}, "count": 2,
          "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:00:00Z"}
    kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(ev))
    out = kubectl("-n", namespace, "get", "events").stdout.splitlines()
    assert out[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert out[1].split()[1:] == ["Warning", "Testing", "pod/p", "hello"]
