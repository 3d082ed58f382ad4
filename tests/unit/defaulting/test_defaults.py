"""Server-side defaults as upstream stores objects."""
import pytest

from apiserver.registry.defaulting.podspec import image_pull_policy, qos_class
from apiserver.registry.resources import strategy_for
from openapi.catalogue import load


def res(plural, group=""):
    return load().lookup(group, "v1", plural)


def defaulted(plural, obj, group=""):
    strategy_for(res(plural, group)).defaults(obj)
    return obj


@pytest.mark.parametrize("image,policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/busybox", "Always"), ("localhost:5000/busybox:1", "IfNotPresent"),
    ("busybox@sha256:abc", "IfNotPresent"), ("busybox:latest@sha256:abc", "Always"),
])
def test_image_pull_policy(image, policy):
    assert image_pull_policy(image) == policy


def test_pod_defaults():
    pod = defaulted("pods", {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "busybox:1", "ports": [{"containerPort": 80}],
         "readinessProbe": {"httpGet": {"port": 80}},
         "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}],
        "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "x"}}]}})
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {} and spec["enableServiceLinks"] is True
    assert "priority" not in spec and "preemptionPolicy" not in spec  # the Priority admission plugin's
    c = spec["containers"][0]
    assert c["terminationMessagePath"] == "/dev/termination-log" and c["terminationMessagePolicy"] == "File"
    assert c["imagePullPolicy"] == "IfNotPresent" and c["resources"] == {}
    assert c["ports"][0]["protocol"] == "TCP"
    assert c["readinessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert spec["volumes"][0] == {"name": "v", "emptyDir": {}}
    assert spec["volumes"][1]["secret"]["defaultMode"] == 420
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_host_network_host_ports():
    pod = defaulted("pods", {"spec": {"hostNetwork": True, "containers": [
        {"name": "c", "image": "i", "ports": [{"containerPort": 8080}]}]}})
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


def test_qos_classes():
    def spec(res):
        return {"containers": [{"name": "c", "resources": res}]}
    assert qos_class(spec({})) == "BestEffort"
    assert qos_class(spec({"requests": {"cpu": "100m"}})) == "Burstable"
    both = {"cpu": "1", "memory": "1Gi"}
    assert qos_class(spec({"limits": both, "requests": both})) == "Guaranteed"
    pod = defaulted("pods", {"spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": both}}]}})
    assert pod["spec"]["containers"][0]["resources"]["requests"] == both
    assert pod["status"]["qosClass"] == "Guaranteed"


def test_service_defaults():
    svc = defaulted("services", {"spec": {"ports": [{"port": 80}], "selector": {"a": "b"}}})
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    np = defaulted("services", {"spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]}})
    assert np["spec"]["externalTrafficPolicy"] == "Cluster" and np["spec"]["ports"][0]["targetPort"] == "http"
    ext = defaulted("services", {"spec": {"type": "ExternalName", "externalName": "x.com"}})
    assert "ipFamilies" not in ext["spec"] and "internalTrafficPolicy" not in ext["spec"]


def test_namespace_secret_rc():
    ns = defaulted("namespaces", {"metadata": {"name": "team"}})
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]} and ns["status"] == {"phase": "Active"}
    assert defaulted("secrets", {"data": {}})["type"] == "Opaque"
    rc = defaulted("replicationcontrollers", {"metadata": {"name": "r"}, "spec": {"template": {
        "metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    assert rc["spec"]["selector"] == {"app": "a"} and rc["metadata"]["labels"] == {"app": "a"}
    assert rc["spec"]["replicas"] == 1
    assert rc["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_limitrange_and_endpoints():
    lr = defaulted("limitranges", {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "1Mi"}}]}})
    item = lr["spec"]["limits"][0]
    assert item["default"] == {"cpu": "2"} and item["defaultRequest"] == {"cpu": "2", "memory": "1Mi"}
    ep = defaulted("endpoints", {"subsets": [{"ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"][0]["protocol"] == "TCP"
    sl = defaulted("endpointslices", {"ports": [{"port": 80}]}, "discovery.k8s.io")
    assert sl["ports"][0] == {"port": 80, "protocol": "TCP", "name": ""}
