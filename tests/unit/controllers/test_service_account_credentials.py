"""--use-service-account-credentials, the pure parts: which account each controller writes as,
that the API server's bootstrap policy has a role and binding for every one of them, when a
token is renewed, and what a few accounts may and may not do (rules checked as RBAC checks them)."""
import pytest

from apiserver.assembly import rbac_bootstrap, rbac_controller_roles as roles
from apiserver.auth.rbac_rules import rule_allows
from apiserver.auth.reviews import AccessAttributes
from controllers.credentials import SERVICE_ACCOUNTS, refresh_delay, token_lifetime
from controllers.registry import CONTROLLERS


def _bound_roles(account: str) -> list[str]:
    subject = {"kind": "ServiceAccount", "name": account, "namespace": "kube-system"}
    return [b["roleRef"]["name"] for b in [*rbac_bootstrap.CLUSTER_ROLE_BINDINGS, *rbac_bootstrap.ROLE_BINDINGS]
            if subject in b["subjects"]]


def test_every_controller_has_an_account_and_the_account_a_bound_role():
    assert set(SERVICE_ACCOUNTS) == set(CONTROLLERS)
    defined = {r["metadata"]["name"] for r in rbac_bootstrap.CLUSTER_ROLES}
    for account in set(SERVICE_ACCOUNTS.values()):
        bound = _bound_roles(account)
        assert bound, account
        assert set(bound) <= defined, (account, bound)
    assert _bound_roles("deployment-controller") == ["system:controller:deployment-controller"]
    assert sorted(_bound_roles("kube-scheduler")) == ["system:kube-scheduler", "system:volume-scheduler"]


def test_the_manager_user_is_bound_to_the_narrow_role_only():
    user = {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:kube-controller-manager"}
    bound = [b["roleRef"]["name"] for b in rbac_bootstrap.CLUSTER_ROLE_BINDINGS if user in b["subjects"]]
    assert bound == ["system:kube-controller-manager"]
    assert "pocketkube:controller-manager" in rbac_bootstrap.components.RETIRED_CLUSTER_BINDINGS


def _rules(account: str) -> list[dict]:
    names = set(_bound_roles(account))
    return [rule for r in rbac_bootstrap.CLUSTER_ROLES if r["metadata"]["name"] in names for rule in r["rules"]]


def _allowed(rules, verb, resource, group="", sub="", name="", ns="default") -> bool:
    attrs = AccessAttributes(verb=verb, is_resource_request=True, namespace=ns, group=group, resource=resource,
                             subresource=sub, name=name)
    return any(rule_allows(r, attrs) for r in rules)


@pytest.mark.parametrize("account,verb,resource,group,sub,want", [
    ("deployment-controller", "create", "replicasets", "apps", "", True),
    ("deployment-controller", "update", "deployments", "apps", "status", True),
    ("deployment-controller", "delete", "secrets", "", "", False),
    ("deployment-controller", "create", "pods", "", "", False),
    ("replicaset-controller", "create", "pods", "", "", True),
    ("job-controller", "update", "jobs", "batch", "status", True),
    ("namespace-controller", "deletecollection", "configmaps", "", "", True),
    ("namespace-controller", "update", "namespaces", "", "finalize", True),
    ("namespace-controller", "create", "pods", "", "", False),
    ("horizontal-pod-autoscaler", "update", "deployments", "apps", "scale", True),
    ("horizontal-pod-autoscaler", "update", "deployments", "apps", "", False),
    ("kube-scheduler", "create", "pods", "", "binding", True),
    ("node-controller", "update", "nodes", "", "status", True),
    ("certificate-controller", "update", "certificatesigningrequests", "certificates.k8s.io", "approval", True),
    ("service-account-controller", "create", "serviceaccounts", "", "", True),
    ("service-account-controller", "create", "serviceaccounts", "", "token", False),
])
def test_what_an_account_may_do(account, verb, resource, group, sub, want):
    assert _allowed(_rules(account), verb, resource, group, sub) is want


def test_the_signer_may_update_cluster_info_only():
    bound = [b for b in rbac_bootstrap.ROLE_BINDINGS if b["roleRef"]["name"] == roles.PREFIX + "bootstrap-signer"]
    assert [b["metadata"]["namespace"] for b in bound] == ["kube-public"]
    rules = _rules("bootstrap-signer")
    assert _allowed(rules, "update", "configmaps", name="cluster-info", ns="kube-public")
    assert not _allowed(rules, "update", "configmaps", name="other", ns="kube-public")


def test_the_manager_itself():
    rules = roles.MANAGER_ROLE
    assert _allowed(rules, "create", "serviceaccounts", sub="token", ns="kube-system")
    assert _allowed(rules, "watch", "secrets")
    assert _allowed(rules, "update", "leases", "coordination.k8s.io", name="kube-controller-manager")
    assert not _allowed(rules, "update", "leases", "coordination.k8s.io", name="somebody-else")
    assert not _allowed(rules, "delete", "secrets")
    assert not _allowed(rules, "create", "pods")


def test_token_lifetime_and_refresh_delay():
    assert token_lifetime({"expirationTimestamp": "2026-01-01T01:00:00Z"}, 1767225600.0) == 3600.0
    assert token_lifetime({"expirationTimestamp": "2026-01-01T00:00:00Z"}, 1767225700.0) == 0.0   # past
    assert token_lifetime({}, 0.0) == 0.0
    assert refresh_delay(3600) == pytest.approx(2880)     # 80% of its life, as kube-controller-manager
    assert refresh_delay(0) == 5.0                        # unknown: soon again
    assert refresh_delay(1, 0.5) == 1.0                   # never a busy loop
