"""Review answers (pure): spec checks, echoed requests, status shapes, rules per mode."""
import pytest

from apiserver.auth import reviews
from apiserver.auth.serviceaccount_tokens import token_request_spec
from apiserver.machinery.errors import StatusError
from apiserver.machinery.user import UserInfo

ALICE = UserInfo("alice", uid="u1", groups=("dev", "system:authenticated"), extra={"scopes": ("a", "b")})
ADMIN = UserInfo("kubernetes-admin", groups=("system:masters", "system:authenticated"))


def test_self_subject_review_reports_the_user():
    out = reviews.self_subject_review({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, ALICE)
    assert out["kind"] == "SelfSubjectReview" and out["apiVersion"] == "authentication.k8s.io/v1"
    assert out["status"]["userInfo"] == {"username": "alice", "uid": "u1", "groups": ["dev", "system:authenticated"],
                                         "extra": {"scopes": ["a", "b"]}}


def test_token_review_spec_requires_a_token():
    with pytest.raises(StatusError) as e:
        reviews.token_review_spec({"spec": {}})
    assert e.value.code == 422 and "spec.token: Required value" in e.value.message
    assert reviews.token_review_spec({"spec": {"token": "t", "audiences": ["a"]}}) == ("t", ("a",))


def test_token_review_status():
    body = {"spec": {"token": "t"}}
    ok = reviews.token_review(body, ALICE, ("api",))
    assert ok["status"]["authenticated"] is True and ok["status"]["audiences"] == ["api"]
    assert ok["status"]["user"]["username"] == "alice" and ok["spec"] == {"token": "t"}
    bad = reviews.token_review(body, None, (), "[invalid bearer token, nope]")
    assert bad["status"] == {"user": {}, "error": "[invalid bearer token, nope]"}


def test_access_attributes_resource_and_non_resource():
    a = reviews.access_attributes({"spec": {"resourceAttributes": {"verb": "create", "resource": "pods",
                                                                   "namespace": "ns", "subresource": None}}},
                                  "SelfSubjectAccessReview")
    assert (a.verb, a.resource, a.namespace, a.subresource, a.is_resource_request) == ("create", "pods", "ns", "", True)
    n = reviews.access_attributes({"spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}},
                                  "SelfSubjectAccessReview")
    assert (n.path, n.verb, n.is_resource_request) == ("/", "get", False)


@pytest.mark.parametrize("spec,field", [
    ({}, "spec.resourceAttributes: Required value"),
    ({"resourceAttributes": {}, "nonResourceAttributes": {}}, "spec.nonResourceAttributes: Invalid value"),
])
def test_access_attributes_exactly_one(spec, field):
    with pytest.raises(StatusError) as e:
        reviews.access_attributes({"spec": spec}, "SelfSubjectAccessReview")
    assert e.value.code == 422 and field in e.value.message
    assert e.value.message.startswith('SelfSubjectAccessReview.authorization.k8s.io "" is invalid')


def test_subject_user():
    u = reviews.subject_user({"spec": {"user": "bob", "groups": ["g"], "uid": "9", "extra": {"k": ["v"]}}})
    assert u == UserInfo("bob", uid="9", groups=("g",), extra={"k": ("v",)})
    with pytest.raises(StatusError, match="at least one of user or group"):
        reviews.subject_user({"spec": {"resourceAttributes": {}}})


def test_access_review_echoes_spec_and_fills_status():
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}
    out = reviews.access_review(body, "SelfSubjectAccessReview", False, "no way")
    assert out["spec"] == body["spec"] and out["metadata"] == {"creationTimestamp": None}
    assert out["status"] == {"allowed": False, "reason": "no way"}
    assert reviews.access_review(body, "SelfSubjectAccessReview", True)["status"] == {"allowed": True}


def test_rules_per_mode():
    everything = reviews.rules_for(["AlwaysAllow"], ALICE)
    assert everything.resource_rules == [reviews.ALL_RESOURCES] and not everything.incomplete
    nothing = reviews.rules_for(["AlwaysDeny"], ALICE)
    assert nothing.resource_rules == [] and not nothing.incomplete
    masters = reviews.rules_for(["AlwaysDeny"], ADMIN)
    assert masters.non_resource_rules == [reviews.ALL_NON_RESOURCES]
    rbac = reviews.rules_for(["RBAC"], ALICE)
    assert rbac.incomplete and rbac.evaluation_errors
    out = reviews.self_subject_rules_review({"spec": {"namespace": "ns"}}, rbac)
    assert out["status"]["incomplete"] is True and "evaluationError" in out["status"]


def test_rules_review_needs_a_namespace():
    with pytest.raises(StatusError) as e:
        reviews.rules_review_namespace({"spec": {}})
    assert e.value.code == 400
    assert reviews.rules_review_namespace({"spec": {"namespace": "default"}}) == "default"


def test_token_request_spec_defaults_and_limits():
    spec = token_request_spec("sa", {}, ("https://issuer",))
    assert spec == {"audiences": ["https://issuer"], "expirationSeconds": 3600}
    assert token_request_spec("sa", {"audiences": ["x"], "expirationSeconds": 600}, ("i",))["audiences"] == ["x"]
    with pytest.raises(StatusError) as e:
        token_request_spec("sa", {"expirationSeconds": 599}, ("i",))
    assert e.value.code == 422 and "may not specify a duration less than 10 minutes" in e.value.message
    with pytest.raises(StatusError, match="larger than 2"):
        token_request_spec("sa", {"expirationSeconds": 2**32}, ("i",))
    with pytest.raises(StatusError) as e:
        token_request_spec("sa", {"expirationSeconds": "soon"}, ("i",))
    assert e.value.code == 400


def test_local_access_attributes():
    body = {"spec": {"user": "u", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "ns"}}}
    assert reviews.local_access_attributes(body, "ns").namespace == "ns"
    with pytest.raises(StatusError) as e:
        reviews.local_access_attributes(body, "other")
    assert e.value.code == 400
    with pytest.raises(StatusError) as e:
        reviews.local_access_attributes({"spec": {"nonResourceAttributes": {"path": "/"}}}, "ns")
    assert e.value.code == 422 and "disallowed on this kind of request" in e.value.message
