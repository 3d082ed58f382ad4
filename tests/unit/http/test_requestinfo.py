from apiserver.http.requestinfo import parse_request_info


def info(method, path, **query):
    return parse_request_info(method, path, query)


def test_namespaced_object():
    i = info("GET", "/api/v1/namespaces/ns1/pods/p1")
    assert (i.verb, i.group, i.version, i.namespace, i.resource, i.name, i.subresource) == \
        ("get", "", "v1", "ns1", "pods", "p1", "")
    assert i.is_resource_request


def test_list_watch_and_collection_verbs():
    assert info("GET", "/api/v1/namespaces/ns1/pods").verb == "list"
    assert info("GET", "/api/v1/pods", watch="true").verb == "watch"
    assert info("GET", "/api/v1/watch/namespaces/ns1/pods").verb == "watch"
    assert info("DELETE", "/api/v1/namespaces/ns1/pods").verb == "deletecollection"
    # upstream turns GET into list/watch only without a name: ?watch on one object is a get
    assert info("GET", "/api/v1/namespaces/ns1/pods/p1", watch="1").verb == "get"


def test_group_resource_and_subresource():
    i = info("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
    assert (i.group, i.version, i.resource, i.verb) == ("coordination.k8s.io", "v1", "leases", "update")
    s = info("POST", "/api/v1/namespaces/ns1/pods/p1/binding")
    assert (s.subresource, s.verb) == ("binding", "create")
    p = info("GET", "/api/v1/namespaces/ns1/pods/p1/proxy/a/b")
    assert (p.subresource, p.parts) == ("proxy", ["a", "b"])


def test_namespace_object_and_its_subresources():
    n = info("GET", "/api/v1/namespaces/ns1")
    assert (n.resource, n.name, n.namespace) == ("namespaces", "ns1", "ns1")
    f = info("PUT", "/api/v1/namespaces/ns1/finalize")
    assert (f.resource, f.name, f.subresource) == ("namespaces", "ns1", "finalize")
    assert info("GET", "/api/v1/namespaces").verb == "list"


def test_discovery_paths_are_not_resource_requests():
    for p in ("/api", "/api/v1", "/apis", "/apis/discovery.k8s.io", "/apis/discovery.k8s.io/v1", "/version"):
        assert not info("GET", p).is_resource_request, p
    assert info("GET", "/apis/discovery.k8s.io").group == "discovery.k8s.io"


def test_a_list_or_watch_of_one_name_is_about_that_name():
    """fieldSelector=metadata.name=x names the request (RBAC resourceNames apply), as upstream."""
    assert info("GET", "/api/v1/namespaces/ns1/configmaps", fieldSelector="metadata.name=cm1").name == "cm1"
    w = info("GET", "/api/v1/namespaces/ns1/configmaps", fieldSelector="metadata.name==cm1,a=b", watch="1")
    assert (w.verb, w.name) == ("watch", "cm1")
    assert info("GET", "/api/v1/namespaces/ns1/configmaps", fieldSelector="metadata.name!=cm1").name == ""
    assert info("GET", "/api/v1/namespaces/ns1/configmaps", fieldSelector="metadata.name=a/b").name == ""
    assert info("GET", "/api/v1/namespaces/ns1/configmaps", fieldSelector="garbage").name == ""
    assert info("DELETE", "/api/v1/namespaces/ns1/configmaps", fieldSelector="metadata.name=cm1").name == ""
