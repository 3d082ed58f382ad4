"""Which webhooks a write is sent to, and how a denial reads."""
from apiserver.admission.webhook_match import rule_matches, webhook_matches
from apiserver.admission.webhooks import denial, review_request
from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import Attributes
from openapi.catalogue import load


def attrs(op="CREATE", plural="pods", sub="", labels=None, group=""):
    r = load().lookup(group, "v1", plural)
    obj = {"metadata": {"name": "x", "labels": labels or {}}}
    return Attributes(op, r, sub, "ns" if r.namespaced else "", "x", obj, None, UserInfo("alice", groups=("g",)))


def rule(**kw):
    base = {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}
    base.update(kw)
    return base


def test_rules():
    assert rule_matches(rule(), attrs())
    assert not rule_matches(rule(), attrs(op="UPDATE"))
    assert rule_matches(rule(operations=["*"]), attrs(op="DELETE"))
    assert not rule_matches(rule(), attrs(sub="status"))
    assert rule_matches(rule(resources=["pods/status"]), attrs(sub="status"))
    assert rule_matches(rule(resources=["*/*"]), attrs(sub="status"))
    assert rule_matches(rule(resources=["*"], apiGroups=["*"]), attrs(plural="leases", group="coordination.k8s.io"))
    assert not rule_matches(rule(scope="Cluster"), attrs())
    assert rule_matches(rule(resources=["namespaces"], scope="Cluster"), attrs(plural="namespaces"))


def test_selectors():
    hook = {"rules": [rule()], "namespaceSelector": {"matchLabels": {"team": "a"}},
            "objectSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}}
    assert webhook_matches(hook, attrs(), {"team": "a"})
    assert not webhook_matches(hook, attrs(), {"team": "b"})
    assert not webhook_matches(hook, attrs(labels={"skip": "1"}), {"team": "a"})


def test_review_and_denial():
    review = review_request(attrs(), "u1")
    req = review["request"]
    assert review["apiVersion"] == "admission.k8s.io/v1" and req["uid"] == "u1"
    assert req["kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert req["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert req["userInfo"] == {"username": "alice", "groups": ["g"]} and req["namespace"] == "ns"
    e = denial("h.example.com", {"code": 200, "message": "no"})
    assert (e.code, e.message) == (400, 'admission webhook "h.example.com" denied the request: no')
    assert denial("h", None).message == 'admission webhook "h" denied the request without explanation'
