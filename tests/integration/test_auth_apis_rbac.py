"""RBAC with real kubectl: bootstrap roles, Role/RoleBinding/ClusterRole via `kubectl create`,
`kubectl auth can-i --as` (impersonation), service-account tokens bound to roles, can-i --list.
One private server with --authorization-mode=RBAC for the module."""
from __future__ import annotations

import pytest

from tests.harness import kubectl_runner, running_server


@pytest.fixture(scope="module")
def rbac_kubectl(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("rbac-apiserver"),
                        extra_args=["--authorization-mode=RBAC"]) as srv:
        yield kubectl_runner(srv.kubeconfig, tmp_path_factory.mktemp("rbac-kubectl"))


def can_i(kubectl, *args, version="1.33"):
    cp = kubectl("auth", "can-i", *args, version=version, check=False)
    assert cp.stdout.strip() in ("yes", "no"), cp.stderr
    assert cp.returncode == (0 if cp.stdout.strip() == "yes" else 1)   # upstream's exit codes
    return cp.stdout.strip()


def test_bootstrap_policy(rbac_kubectl):
    roles = rbac_kubectl("get", "clusterroles").stdout
    assert roles.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    for name in ("cluster-admin", "system:basic-user", "system:discovery", "system:public-info-viewer"):
        assert name in roles
    assert "cluster-admin" in rbac_kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "yaml").stdout


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_role_binding_grants_exactly_its_rules(rbac_kubectl, version):
    k = rbac_kubectl
    ns = f"team-{version.replace('.', '-')}"
    k("create", "namespace", ns)
    k("create", "role", "reader", "--verb=get,list", "--resource=pods,pods/log", "-n", ns, version=version)
    assert can_i(k, "list", "pods", "-n", ns, "--as=bob", version=version) == "no"
    k("create", "rolebinding", "bob-reads", "--role=reader", "--user=bob", "-n", ns, version=version)
    assert can_i(k, "list", "pods", "-n", ns, "--as=bob", version=version) == "yes"
    assert can_i(k, "get", "pods/log", "-n", ns, "--as=bob", version=version) == "yes"
    assert can_i(k, "delete", "pods", "-n", ns, "--as=bob", version=version) == "no"
    assert can_i(k, "list", "pods", "-n", "default", "--as=bob", version=version) == "no"
    assert k("get", "pods", "-n", ns, "--as=bob", version=version).returncode == 0
    denied = k("get", "pods", "-n", "default", "--as=bob", check=False, version=version)
    assert denied.returncode == 1
    assert ('pods is forbidden: User "bob" cannot list resource "pods" in API group "" '
            'in the namespace "default"') in denied.stderr


def test_service_account_token_follows_its_bindings(rbac_kubectl):
    k = rbac_kubectl
    k("create", "namespace", "ci")
    k("create", "serviceaccount", "builder", "-n", "ci")
    token = k("create", "token", "builder", "-n", "ci").stdout.strip()
    assert "system:serviceaccount:ci:builder" in k("auth", "whoami", f"--token={token}").stdout
    assert k("get", "pods", "-n", "ci", f"--token={token}", check=False).returncode == 1
    listed = k("auth", "can-i", "--list", "-n", "ci", f"--token={token}").stdout
    assert "selfsubjectaccessreviews.authorization.k8s.io" in listed and "*.*" not in listed
    k("create", "rolebinding", "builder-admin", "--clusterrole=cluster-admin", "--serviceaccount=ci:builder",
      "-n", "ci")
    assert k("get", "pods", "-n", "ci", f"--token={token}").returncode == 0
    assert "*.*" in k("auth", "can-i", "--list", "-n", "ci", f"--token={token}").stdout
    assert k("get", "pods", "-n", "default", f"--token={token}", check=False).returncode == 1


def test_aggregated_cluster_role_and_impersonation_rights(rbac_kubectl):
    k = rbac_kubectl
    k("create", "clusterrole", "node-viewer", "--aggregation-rule=view-nodes=true")
    k("create", "clusterrolebinding", "carol-nodes", "--clusterrole=node-viewer", "--user=carol")
    assert can_i(k, "get", "nodes", "--as=carol") == "no"
    k("create", "clusterrole", "node-getter", "--verb=get", "--resource=nodes")
    k("label", "clusterrole", "node-getter", "view-nodes=true")
    assert can_i(k, "get", "nodes", "--as=carol") == "yes"
    # Only those allowed to impersonate may: carol may not, nor may a service account.
    assert can_i(k, "impersonate", "users", "--as=carol") == "no"
    k("create", "namespace", "imp")
    k("create", "serviceaccount", "sa", "-n", "imp")
    token = k("create", "token", "sa", "-n", "imp").stdout.strip()
    cp = k("get", "pods", "-n", "imp", "--as=dave", f"--token={token}", check=False)
    assert cp.returncode == 1
    assert ('users "dave" is forbidden: User "system:serviceaccount:imp:sa" cannot impersonate resource "users" '
            'in API group "" at the cluster scope') in cp.stderr
