"""422 causes: exact field path, CauseType and upstream wording."""
import copy

import pytest

from apiserver.registry.resources import strategy_for
from openapi.catalogue import load


def apply_defaults(r, obj):
    strategy_for(r).defaults(obj)


def validate_create(r, obj):
    return strategy_for(r).check_create(obj)


def validate_update(r, new, old):
    return strategy_for(r).check_update(new, old)


def res(plural, group="", version="v1"):
    return load().lookup(group, version, plural)


def causes(plural, obj, group="", default=True):
    r = res(plural, group)
    if default:
        apply_defaults(r, obj)
    return [(c.field, c.reason, c.message) for c in validate_create(r, obj)]


def fields(cs):
    return [(f, r) for f, r, _ in cs]


def pod(**spec):
    s = {"containers": [{"name": "c", "image": "busybox"}]}
    s.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": s}


def test_valid_pod_has_no_causes():
    assert causes("pods", pod()) == []


def test_pod_name_and_namespace():
    p = pod()
    p["metadata"]["name"] = "Foo"
    (f, r, m), = causes("pods", p)
    assert (f, r) == ("metadata.name", "FieldValueInvalid")
    assert m.startswith('Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of')
    p = pod()
    del p["metadata"]["name"]
    assert causes("pods", p) == [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")]
    p["metadata"]["generateName"] = "web-"
    assert causes("pods", p) == []
    p = pod()
    del p["metadata"]["namespace"]
    assert fields(causes("pods", p)) == [("metadata.namespace", "FieldValueRequired")]


def test_labels_and_annotations():
    p = pod()
    p["metadata"]["labels"] = {"bad key!": "v", "ok": "bad value!"}
    p["metadata"]["annotations"] = {"a": "x" * (256 * 1024)}
    cs = causes("pods", p)
    assert fields(cs) == [("metadata.labels", "FieldValueInvalid"), ("metadata.labels", "FieldValueInvalid"),
                          ("metadata.annotations", "FieldValueTooLong")]
    assert cs[2][2] == "Too long: may not be more than 262144 bytes"


def test_container_rules():
    p = pod(containers=[{"name": "c", "image": "i", "imagePullPolicy": "Sometimes"}, {"name": "c"}, {"image": "x"}],
            restartPolicy="Maybe")
    cs = causes("pods", p)
    assert ("spec.containers[0].imagePullPolicy", "FieldValueNotSupported",
            'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"') in cs
    assert ("spec.containers[1].image", "FieldValueRequired", "Required value") in cs
    assert ("spec.containers[1].name", "FieldValueDuplicate", 'Duplicate value: "c"') in cs
    assert ("spec.containers[2].name", "FieldValueRequired", "Required value") in cs
    assert ("spec.restartPolicy", "FieldValueNotSupported",
            'Unsupported value: "Maybe": supported values: "Always", "OnFailure", "Never"') in cs


def test_no_containers_ports_mounts_resources():
    assert fields(causes("pods", pod(containers=[]))) == [("spec.containers", "FieldValueRequired")]
    p = pod(containers=[{"name": "c", "image": "i", "ports": [{"containerPort": 70000}],
                         "volumeMounts": [{"name": "missing", "mountPath": "/x"}],
                         "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1", "memory": "lots"}}}])
    cs = causes("pods", p)
    assert ("spec.containers[0].ports[0].containerPort", "FieldValueInvalid",
            "Invalid value: 70000: must be between 1 and 65535, inclusive") in cs
    assert ("spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", 'Not found: "missing"') in cs
    assert ("spec.containers[0].resources.requests[cpu]", "FieldValueInvalid",
            'Invalid value: "2": must be less than or equal to cpu limit of 1') in cs
    assert ("spec.containers[0].resources.limits[memory]", "FieldValueInvalid") in fields(cs)


def test_schema_types_and_required():
    p = pod()
    p["spec"]["terminationGracePeriodSeconds"] = "thirty"
    cs = causes("pods", p, default=False)
    assert cs == [("spec.terminationGracePeriodSeconds", "FieldValueTypeInvalid",
                   'Invalid value: "string": spec.terminationGracePeriodSeconds in body must be of type integer: "string"')]


def test_pod_update_forbidden_and_image_allowed():
    old = pod()
    apply_defaults(res("pods"), old)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "busybox:2"
    assert validate_update(res("pods"), new, old) == []
    new["spec"]["restartPolicy"] = "Never"
    (c,) = validate_update(res("pods"), new, old)
    assert (c.field, c.reason) == ("spec", "FieldValueForbidden")
    assert c.message.startswith("Forbidden: pod updates may not change fields other than `spec.containers[*].image`")
    renamed = copy.deepcopy(old)
    renamed["metadata"]["name"] = "q"
    (c,) = validate_update(res("pods"), renamed, old)
    assert (c.field, c.message) == ("metadata.name", 'Invalid value: "q": field is immutable')


def svc(**spec):
    s = {"ports": [{"port": 80}], "selector": {"app": "a"}}
    s.update(spec)
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": s}


def test_service_rules():
    assert causes("services", svc()) == []
    bad = svc(ports=[{"port": 80}, {"port": 0, "name": "b"}], type="Fancy")
    bad["metadata"]["name"] = "1web"
    cs = causes("services", bad)
    assert ("metadata.name", "FieldValueInvalid") in fields(cs)
    assert ("spec.type", "FieldValueNotSupported",
            'Unsupported value: "Fancy": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"') in cs
    assert ("spec.ports[0].name", "FieldValueRequired") in fields(cs)
    assert ("spec.ports[1].port", "FieldValueInvalid") in fields(cs)
    assert fields(causes("services", svc(ports=[]))) == [("spec.ports", "FieldValueRequired")]
    cs = causes("services", svc(ports=[{"port": 80, "nodePort": 30000}]))
    assert cs == [("spec.ports[0].nodePort", "FieldValueForbidden",
                   "Forbidden: may not be used when `type` is 'ClusterIP'")]


def test_service_cluster_ip_immutable():
    old = svc(clusterIP="10.96.0.5", clusterIPs=["10.96.0.5"])
    new = svc(clusterIP="10.96.0.6", clusterIPs=["10.96.0.6"])
    cs = [(c.field, c.message) for c in validate_update(res("services"), new, old)]
    assert ("spec.clusterIPs[0]", 'Invalid value: "10.96.0.6": may not change once set') in cs


def test_configmap_and_secret():
    cm = {"metadata": {"name": "c", "namespace": "d"}, "data": {"bad key": "v"}}
    assert fields(causes("configmaps", cm)) == [("data[bad key]", "FieldValueInvalid")]
    old = {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "1"}, "immutable": True}
    new = dict(old, data={"a": "2"})
    (c,) = validate_update(res("configmaps"), new, old)
    assert (c.field, c.reason, c.message) == ("data", "FieldValueForbidden",
                                              "Forbidden: field is immutable when `immutable` is set")
    tls = {"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}
    assert fields(causes("secrets", tls)) == [("data[tls.key]", "FieldValueRequired")]
    s_old = {"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"}
    (c,) = validate_update(res("secrets"), dict(s_old, type="kubernetes.io/basic-auth", data={"username": "eA=="}), s_old)
    assert (c.field, c.message) == ("type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable')


def test_namespace_and_cluster_scoped():
    ns = {"metadata": {"name": "a.b"}}
    (f, r, m), = causes("namespaces", ns)
    assert (f, r) == ("metadata.name", "FieldValueInvalid") and "must not contain dots" in m
    node = {"metadata": {"name": "n", "namespace": "x"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}
    cs = causes("nodes", node)
    assert ("metadata.namespace", "FieldValueForbidden", "Forbidden: not allowed on this type") in cs
    assert ("spec.taints[0].effect", "FieldValueNotSupported") in fields(cs)


def test_rc_quota_limitrange_lease_slices():
    rc = {"metadata": {"name": "r", "namespace": "d"}, "spec": {"replicas": -1, "selector": {"app": "x"}, "template": {
        "metadata": {"labels": {"app": "y"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    cs = fields(causes("replicationcontrollers", rc))
    assert ("spec.replicas", "FieldValueInvalid") in cs and ("spec.template.metadata.labels", "FieldValueInvalid") in cs
    rq = {"metadata": {"name": "q", "namespace": "d"}, "spec": {"hard": {"pods": "-1", "cpu": "x"}}}
    assert fields(causes("resourcequotas", rq)) == [("spec.hard[pods]", "FieldValueInvalid"), ("spec.hard[cpu]", "FieldValueInvalid")]
    lr = {"metadata": {"name": "l", "namespace": "d"}, "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]}}
    assert ("spec.limits[0].min[cpu]", "FieldValueInvalid") in fields(causes("limitranges", lr))
    lease = {"metadata": {"name": "l", "namespace": "d"}, "spec": {"leaseDurationSeconds": 0}}
    assert fields(causes("leases", lease, "coordination.k8s.io")) == [("spec.leaseDurationSeconds", "FieldValueInvalid")]
    sl = {"metadata": {"name": "s", "namespace": "d"}, "addressType": "IPv4", "endpoints": [{"addresses": ["x"]}]}
    assert fields(causes("endpointslices", sl, "discovery.k8s.io")) == [("endpoints[0].addresses[0]", "FieldValueInvalid")]


@pytest.mark.parametrize("plural,group,version", [(r.plural, r.group, r.version) for r in load().resources() if r.stored])
def test_minimal_object_of_every_kind_does_not_crash(plural, group, version):
    r = load().lookup(group, version, plural)
    obj = {"metadata": {"name": "x", "namespace": "d" if r.namespaced else None}}
    if not r.namespaced:
        del obj["metadata"]["namespace"]
    apply_defaults(r, obj)
    validate_create(r, obj)
    validate_update(r, obj, copy.deepcopy(obj))


def test_service_type_change_drops_unchanged_node_ports():
    old = svc(type="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 30080}], externalTrafficPolicy="Cluster")
    new = copy.deepcopy(old)
    new["spec"]["type"] = "ClusterIP"
    assert validate_update(res("services"), new, old) == []
    new["spec"]["ports"][0]["nodePort"] = 30081
    assert [c.field for c in validate_update(res("services"), new, old)] == ["spec.ports[0].nodePort"]
