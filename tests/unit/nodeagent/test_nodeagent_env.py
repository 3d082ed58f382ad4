import base64

import pytest

from nodeagent.pods.env import EnvError, build_env, expand, service_link_env

POD = {"metadata": {"name": "p", "namespace": "ns", "uid": "u1", "labels": {"app": "x"}},
       "spec": {"nodeName": "n1", "serviceAccountName": "sa"}}


def test_expand_defined_undefined_and_escape():
    env = {"A": "1", "B": "two"}
    assert expand("$(A)-$(B)", env) == "1-two"
    assert expand("$(MISSING)", env) == "$(MISSING)"
    assert expand("$$(A)", env) == "$(A)"
    assert expand("cost $5 $(A", env) == "cost $5 $(A"


def test_env_order_and_sources():
    cm = {"data": {"k": "from-cm", "other": "o"}}
    sec = {"data": {"pw": base64.b64encode(b"s3cret").decode()}}
    c = {"name": "c", "resources": {"limits": {"memory": "64Mi"}},
         "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
         "env": [{"name": "A", "value": "a"},
                 {"name": "B", "value": "$(A)-b"},
                 {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                 {"name": "LBL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                 {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                 {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                 {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}},
                 {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw"}}},
                 {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "x", "optional": True}}}]}
    env = build_env(POD, c, host_ip="10.0.0.1", pod_ip="10.88.0.2",
                    get_configmap={"cm": cm}.get, get_secret={"s": sec}.get,
                    service_env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"})
    assert env["B"] == "a-b" and env["NAME"] == "p" and env["LBL"] == "x" and env["IP"] == "10.88.0.2"
    assert env["MEM"] == "64" and env["K"] == "from-cm" and env["PW"] == "s3cret"
    assert env["CM_other"] == "o" and env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert "OPT" not in env
    assert list(env)[0] == "KUBERNETES_SERVICE_HOST"


def test_missing_required_key_is_an_error():
    c = {"name": "c", "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}
    with pytest.raises(EnvError, match='configmap "cm" not found'):
        build_env(POD, c, host_ip="", pod_ip="", get_configmap={}.get, get_secret={}.get)


def test_service_links():
    svc = {"metadata": {"name": "my-svc"}, "spec": {"clusterIP": "10.96.0.10",
                                                   "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
    env = service_link_env([svc, {"metadata": {"name": "headless"}, "spec": {"clusterIP": "None"}}])
    assert env["MY_SVC_SERVICE_HOST"] == "10.96.0.10"
    assert env["MY_SVC_SERVICE_PORT"] == "80"
    assert env["MY_SVC_SERVICE_PORT_HTTP"] == "80"
    assert env["MY_SVC_PORT"] == "tcp://10.96.0.10:80"
    assert env["MY_SVC_PORT_80_TCP_ADDR"] == "10.96.0.10"
    assert not any(k.startswith("HEADLESS") for k in env)
