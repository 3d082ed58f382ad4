"""RBAC with real kubectl: bootstrap roles, Role/RoleBinding/ClusterRole via `kubectl create`,
`kubectl auth can-i --as` (impersonation), service-account tokens bound to roles, can-i --list.
One private server with --authorization-mode=RBAC for the module."""
from __future__ import annotations

import ssl

import httpx
import pytest
from kubernetes import client, config

from tests.harness import kubectl_runner, running_server


@pytest.fixture(scope="module")
def rbac_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("rbac-apiserver"),
                        extra_args=["--authorization-mode=RBAC"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def rbac_kubectl(rbac_server, tmp_path_factory):
    return kubectl_runner(rbac_server.kubeconfig, tmp_path_factory.mktemp("rbac-kubectl"))


@pytest.fixture(scope="module")
def rbac_token_kubectl(rbac_server, tmp_path_factory):
    """For `--token=...`: a kubeconfig without the admin's client certificate (it would log in first)."""
    return kubectl_runner(rbac_server.token_kubeconfig, tmp_path_factory.mktemp("rbac-token-kubectl"))


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
    lines = rbac_kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert lines[1].split()[:2] == ["cluster-admin", "ClusterRole/cluster-admin"]
    assert lines[1].split()[-1] == "system:masters"


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


def test_service_account_token_follows_its_bindings(rbac_kubectl, rbac_token_kubectl):
    k, kt = rbac_kubectl, rbac_token_kubectl
    k("create", "namespace", "ci")
    k("create", "serviceaccount", "builder", "-n", "ci")
    token = k("create", "token", "builder", "-n", "ci").stdout.strip()
    assert "system:serviceaccount:ci:builder" in kt("auth", "whoami", f"--token={token}").stdout
    assert kt("get", "pods", "-n", "ci", f"--token={token}", check=False).returncode == 1
    listed = kt("auth", "can-i", "--list", "-n", "ci", f"--token={token}").stdout
    assert "selfsubjectaccessreviews.authorization.k8s.io" in listed and "*.*" not in listed
    k("create", "rolebinding", "builder-admin", "--clusterrole=cluster-admin", "--serviceaccount=ci:builder",
      "-n", "ci")
    assert kt("get", "pods", "-n", "ci", f"--token={token}").returncode == 0
    assert "*.*" in kt("auth", "can-i", "--list", "-n", "ci", f"--token={token}").stdout
    assert kt("get", "pods", "-n", "default", f"--token={token}", check=False).returncode == 1


def test_aggregated_cluster_role_and_impersonation_rights(rbac_kubectl, rbac_token_kubectl):
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
    cp = rbac_token_kubectl("get", "pods", "-n", "imp", "--as=dave", f"--token={token}", check=False)
    assert cp.returncode == 1
    assert ('users "dave" is forbidden: User "system:serviceaccount:imp:sa" cannot impersonate resource "users" '
            'in API group "" at the cluster scope') in cp.stderr


def test_subject_review_api_operations(rbac_server, rbac_kubectl):
    """Counterpart of the conformance row "SubjectReview should support SubjectReview API operations":
    SubjectAccessReview and LocalSubjectAccessReview agree with what an impersonating client may do."""
    k, ns = rbac_kubectl, "subjectreview"
    k("create", "namespace", ns)
    k("create", "serviceaccount", "e2e", "-n", ns)
    api = config.new_client_from_config(config_file=str(rbac_server.kubeconfig))
    sa = client.CoreV1Api(api).read_namespaced_service_account("e2e", ns)
    user = f"system:serviceaccount:{ns}:e2e"
    groups = ["system:authenticated", "system:serviceaccounts", f"system:serviceaccounts:{ns}"]
    authz = client.AuthorizationV1Api(api)
    attrs = client.V1ResourceAttributes(verb="list", resource="configmaps", namespace=ns, version="v1")
    impersonating = httpx.Client(
        base_url=rbac_server.url, verify=ssl.create_default_context(cafile=str(rbac_server.ca_file)), timeout=30,
        headers=[("Authorization", f"Bearer {rbac_server.token}"), ("Impersonate-User", user),
                 ("Impersonate-Uid", sa.metadata.uid), *[("Impersonate-Group", g) for g in groups]])

    def check(expected: bool):
        sar = authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            resource_attributes=attrs, user=user, groups=groups, uid=sa.metadata.uid)))
        lsar = authz.create_namespaced_local_subject_access_review(ns, client.V1LocalSubjectAccessReview(
            metadata=client.V1ObjectMeta(namespace=ns), spec=client.V1SubjectAccessReviewSpec(
                resource_attributes=attrs, user="e2e", groups=groups, uid=sa.metadata.uid)))
        listed = impersonating.get(f"/api/v1/namespaces/{ns}/configmaps")
        assert listed.status_code == (200 if expected else 403), listed.text
        assert sar.status.allowed is expected and lsar.status.allowed is expected   # groups grant it, not the name

    with api, impersonating:
        check(False)
        k("create", "role", "cm-reader", "--verb=list", "--resource=configmaps", "-n", ns)
        k("create", "rolebinding", "sa-group-reads", "--role=cm-reader", f"--group=system:serviceaccounts:{ns}",
          "-n", ns)
        check(True)
        with pytest.raises(client.ApiException) as e:   # a local review asks about its own namespace only
            authz.create_namespaced_local_subject_access_review(ns, client.V1LocalSubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(user="x", resource_attributes=client.V1ResourceAttributes(
                    verb="get", resource="pods", namespace="other"))))
        assert e.value.status == 400 and "must match namespace" in e.value.body


def test_no_granting_more_than_one_holds(rbac_kubectl):
    k, ns = rbac_kubectl, "escalate"
    k("create", "namespace", ns)
    k("create", "role", "rbac-writer", "--verb=create,get,list", "--resource=roles,rolebindings,pods", "-n", ns)
    k("create", "rolebinding", "erin-writes", "--role=rbac-writer", "--user=erin", "-n", ns)
    # What erin holds she may hand on...
    k("create", "role", "pod-lister", "--verb=list", "--resource=pods", "-n", ns, "--as=erin")
    k("create", "rolebinding", "frank-lists", "--role=pod-lister", "--user=frank", "-n", ns, "--as=erin")
    assert can_i(k, "list", "pods", "-n", ns, "--as=frank") == "yes"
    # ...but not more.
    cp = k("create", "role", "pod-killer", "--verb=delete", "--resource=pods", "-n", ns, "--as=erin", check=False)
    assert cp.returncode == 1
    assert 'user "erin"' in cp.stderr and "is attempting to grant RBAC permissions not currently held" in cp.stderr
    cp = k("create", "rolebinding", "erin-admin", "--clusterrole=cluster-admin", "--user=erin", "-n", ns,
           "--as=erin", check=False)
    assert cp.returncode == 1 and "not currently held" in cp.stderr
    # `bind` on a role lets one bind it without holding it.
    k("create", "role", "binder", "--verb=bind", "--resource=clusterroles", "--resource-name=cluster-admin", "-n", ns)
    k("create", "rolebinding", "erin-binds", "--role=binder", "--user=erin", "-n", ns)
    k("create", "rolebinding", "gina-admin", "--clusterrole=cluster-admin", "--user=gina", "-n", ns, "--as=erin")
    assert can_i(k, "delete", "pods", "-n", ns, "--as=gina") == "yes"


def test_admin_edit_view_roles(rbac_kubectl):
    k, ns = rbac_kubectl, "roles-tour"
    k("create", "namespace", ns)
    k("create", "rolebinding", "hal-edit", "--clusterrole=edit", "--user=hal", "-n", ns)
    k("create", "rolebinding", "ivy-view", "--clusterrole=view", "--user=ivy", "-n", ns)
    k("create", "rolebinding", "jo-admin", "--clusterrole=admin", "--user=jo", "-n", ns)
    for verb, resource, who, want in [
        ("list", "pods", "ivy", "yes"), ("get", "secrets", "ivy", "no"), ("create", "pods", "ivy", "no"),
        ("create", "configmaps", "hal", "yes"), ("get", "secrets", "hal", "yes"),
        ("create", "pods/exec", "hal", "yes"), ("create", "roles", "hal", "no"),
        ("create", "roles", "jo", "yes"), ("list", "pods", "jo", "yes"),
    ]:
        assert can_i(k, verb, resource, "-n", ns, f"--as={who}") == want, (verb, resource, who)
    # An admin may hand out view in its namespace (it holds all of view's rules)...
    k("create", "rolebinding", "kim-view", "--clusterrole=view", "--user=kim", "-n", ns, "--as=jo")
    # ...but an editor may not hand out admin.
    cp = k("create", "rolebinding", "kim-admin", "--clusterrole=admin", "--user=kim", "-n", ns, "--as=hal",
           check=False)
    assert cp.returncode == 1


def test_resource_names_allow_a_list_of_that_one_name(rbac_kubectl):
    """A list by fieldSelector=metadata.name=<n> is about <n> (upstream's RequestInfo),
    so a Role limited to resourceNames allows it; a plain list stays forbidden."""
    k = rbac_kubectl
    ns = "rn-" + __import__("uuid").uuid4().hex[:6]
    k("create", "namespace", ns)
    k("create", "configmap", "cm1", "-n", ns, "--from-literal=a=b")
    k("create", "role", "one-cm", "-n", ns, "--verb=get,list,watch", "--resource=configmaps",
      "--resource-name=cm1")
    k("create", "rolebinding", "one-cm", "-n", ns, "--role=one-cm", "--user=carol")
    out = k("get", "configmaps", "-n", ns, "--field-selector=metadata.name=cm1", "--as=carol", "-o", "name")
    assert out.stdout.split() == ["configmap/cm1"]
    denied = k("get", "configmaps", "-n", ns, "--as=carol", check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr


def test_approving_a_csr_needs_the_approve_verb_on_its_signer(rbac_kubectl, tmp_path):
    """Upstream's CertificateApproval: RBAC on certificatesigningrequests/approval is not enough."""
    import base64
    import json

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    k = rbac_kubectl
    key = ec.generate_private_key(ec.SECP256R1())
    req = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lena")])).sign(key, hashes.SHA256())
    k("create", "-f", "-", input=json.dumps({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "lena"},
        "spec": {"request": base64.b64encode(req.public_bytes(serialization.Encoding.PEM)).decode(),
                 "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}}))
    k("create", "clusterrole", "csr-approval", "--verb=get,list,update", "--resource=certificatesigningrequests",
      "--resource=certificatesigningrequests/approval")
    k("create", "clusterrolebinding", "mia-csr", "--clusterrole=csr-approval", "--user=mia")
    cp = k("certificate", "approve", "lena", "--as=mia", check=False)
    assert cp.returncode == 1
    assert ('certificatesigningrequests.certificates.k8s.io "lena" is forbidden: user not permitted to approve '
            'requests with signerName "kubernetes.io/kube-apiserver-client"') in cp.stderr
    k("create", "clusterrolebinding", "mia-signer", "--user=mia",
      "--clusterrole=system:certificates.k8s.io:kube-apiserver-client-approver")
    assert "lena approved" in k("certificate", "approve", "lena", "--as=mia").stdout
