"""RBAC: rule and subject matching (pure), impersonation requests (pure), and the
authorizer over a real registry on a throwaway SQLite store."""
import pytest

from apiserver.auth.authorizer import ModeAuthorizer
from apiserver.auth.impersonation import impersonate, requested
from apiserver.auth.rbac import RBACAuthorizer
from apiserver.assembly.rbac_bootstrap import ensure_bootstrap_policy
from apiserver.auth.rbac_rules import non_resource_url_matches, resource_matches, rule_allows, subject_matches
from apiserver.auth.reviews import AccessAttributes
from apiserver.machinery.errors import StatusError
from apiserver.machinery.user import UserInfo
from apiserver.registry.context import WriteContext
from apiserver.registry.registries import Registries
from apiserver.storage.sqlite import SQLiteStore
from openapi.catalogue import load

RBAC = "rbac.authorization.k8s.io"
BOB = UserInfo("bob", groups=("dev", "system:authenticated"))
ADMIN = UserInfo("kubernetes-admin", groups=("system:masters", "system:authenticated"))


def res(verb, resource, ns="", group="", sub="", name=""):
    return AccessAttributes(verb=verb, is_resource_request=True, namespace=ns, group=group, resource=resource,
                            subresource=sub, name=name)


def path(verb, p):
    return AccessAttributes(verb=verb, is_resource_request=False, path=p)


@pytest.mark.parametrize("rules,resource,sub,want", [
    (["*"], "pods", "log", True),
    (["pods"], "pods", "", True),
    (["pods"], "pods", "log", False),
    (["pods/log"], "pods", "log", True),
    (["*/scale"], "deployments", "scale", True),
    (["*/scale"], "deployments", "", False),
])
def test_resource_matches(rules, resource, sub, want):
    assert resource_matches(rules, resource, sub) is want


def test_non_resource_urls():
    assert non_resource_url_matches(["/healthz/*"], "/healthz/etcd")
    assert non_resource_url_matches(["*"], "/anything")
    assert not non_resource_url_matches(["/healthz"], "/healthz/etcd")


def test_rule_allows():
    rule = {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["web"]}
    assert rule_allows(rule, res("get", "pods", name="web"))
    assert not rule_allows(rule, res("get", "pods", name="db"))
    assert not rule_allows(rule, res("delete", "pods", name="web"))
    assert not rule_allows(rule, res("get", "pods", group="apps", name="web"))
    assert not rule_allows(rule, path("get", "/healthz"))
    assert rule_allows({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}, path("get", "/healthz"))
    assert not rule_allows({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}, res("get", "pods"))


def test_subject_matches():
    sa = UserInfo("system:serviceaccount:team:ci")
    assert subject_matches({"kind": "User", "name": "bob"}, BOB, "")
    assert subject_matches({"kind": "Group", "name": "dev"}, BOB, "")
    assert subject_matches({"kind": "ServiceAccount", "name": "ci"}, sa, "team")      # binding's namespace
    assert not subject_matches({"kind": "ServiceAccount", "name": "ci"}, sa, "other")
    assert subject_matches({"kind": "ServiceAccount", "name": "ci", "namespace": "team"}, sa, "other")


def test_impersonation_request():
    assert requested({"authorization": "Bearer x"}) is None
    user, checks = requested({"Impersonate-User": "bob", "Impersonate-Group": "dev"})
    assert user.name == "bob" and user.groups == ("dev", "system:authenticated")
    assert [(c.resource, c.name) for c in checks] == [("users", "bob"), ("groups", "dev")]
    sa, checks = requested({"impersonate-user": "system:serviceaccount:team:ci"})
    assert sa.groups == ("system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated")
    assert (checks[0].resource, checks[0].namespace, checks[0].name) == ("serviceaccounts", "team", "ci")
    with pytest.raises(StatusError):
        requested({"impersonate-group": "dev"})


@pytest.fixture
async def registries(tmp_path):
    store = SQLiteStore(str(tmp_path / "db.sqlite"))
    regs = Registries(store, load())
    await ensure_bootstrap_policy(regs)
    yield regs
    await store.close()


async def _create(regs, plural, ns, obj):
    await regs.for_plural(RBAC, plural).create(ns, obj, WriteContext())


async def test_rbac_authorizer_roles_and_bindings(registries):
    rbac = RBACAuthorizer(registries)
    authz = ModeAuthorizer(["RBAC"], rbac=rbac)
    assert (await authz.authorize(BOB, res("list", "pods", "team")))[0] is False
    # Everyone authenticated may ask about themselves (system:basic-user) and read discovery.
    assert (await authz.authorize(BOB, res("create", "selfsubjectaccessreviews", group="authorization.k8s.io")))[0]
    assert (await authz.authorize(BOB, path("get", "/apis/apps")))[0]
    await _create(registries, "roles", "team", {"metadata": {"name": "reader"}, "rules": [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]})
    await _create(registries, "rolebindings", "team", {"metadata": {"name": "bob-reads"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "bob"}]})
    allowed, reason = await authz.authorize(BOB, res("list", "pods", "team"))
    assert allowed and reason == 'RBAC: allowed by RoleBinding "bob-reads/team" of Role "reader" to User "bob"'
    assert not (await authz.authorize(BOB, res("list", "pods", "default")))[0]
    assert not (await authz.authorize(BOB, res("delete", "pods", "team")))[0]
    res_rules, _, problems = await rbac.rules_for(BOB, "team")
    assert {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]} in res_rules and not problems


async def test_rbac_missing_role_and_aggregation(registries):
    rbac = RBACAuthorizer(registries)
    await _create(registries, "clusterrolebindings", "", {"metadata": {"name": "dev-agg"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "agg"},
        "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": "dev"}]})
    allowed, reason = await rbac.decide(BOB, res("get", "nodes"))
    assert allowed is None and 'clusterrole.rbac.authorization.k8s.io "agg" not found' in reason
    await _create(registries, "clusterroles", "", {"metadata": {"name": "agg"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]}})
    await _create(registries, "clusterroles", "", {"metadata": {"name": "piece", "labels": {"agg": "yes"}},
        "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]})
    assert (await rbac.decide(BOB, res("get", "nodes")))[0] is True


async def test_impersonation_needs_permission(registries):
    authz = ModeAuthorizer(["RBAC"], rbac=RBACAuthorizer(registries))
    as_bob = {"impersonate-user": "bob"}
    assert (await impersonate(ADMIN, as_bob, authz)).name == "bob"
    with pytest.raises(StatusError) as e:
        await impersonate(BOB, {"impersonate-user": "alice"}, authz)
    assert e.value.code == 403
    assert e.value.message == ('users "alice" is forbidden: User "bob" cannot impersonate resource "users" '
                               'in API group "" at the cluster scope')


def test_impersonation_reads_every_group():
    class Headers(dict):
        def getlist(self, name):
            return ["a", "b"] if name == "impersonate-group" else []
    user, checks = requested(Headers({"impersonate-user": "bob", "impersonate-group": "b"}))
    assert user.groups == ("a", "b", "system:authenticated")
    assert [c.name for c in checks] == ["bob", "a", "b"]


def test_escalation_not_held():
    from apiserver.auth.rbac_escalation import not_held
    owned = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]},
             {"verbs": ["get"], "nonResourceURLs": ["/healthz/*"]}]
    ok = {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["web"]}
    assert not_held([ok, {"verbs": ["get"], "nonResourceURLs": ["/healthz/etcd"]}], owned) == []
    too_much = [{"verbs": ["delete"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["get"], "apiGroups": ["apps"], "resources": ["pods"]},
                {"verbs": ["get"], "apiGroups": [""], "resources": ["*"]}]
    assert not_held(too_much, owned) == too_much
    assert not_held(too_much, [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]) == []
