"""Authentication and authorization APIs with real kubectl and the Python client:
`kubectl auth whoami` / `auth can-i` / `create token`, TokenReview, SubjectAccessReview,
service-account JWTs as credentials (and their revocation), OIDC discovery, the 406 for Tables.
"""
from __future__ import annotations

import ssl
import time

import httpx
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from apiserver.auth.serviceaccounts import DEFAULT_ISSUER, TokenSigner, token_claims
from tests.harness import kubectl_runner

AUTHZ = "/apis/authorization.k8s.io/v1"


def _http(server, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)),
                        headers=headers, timeout=30)


def _client_with_token(server, token: str) -> client.ApiClient:
    cfg = client.Configuration()
    cfg.host = server.url
    cfg.ssl_ca_cert = str(server.ca_file)
    cfg.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(cfg)


def _service_account(api_client, namespace: str, name: str = "default", view: bool = True) -> dict:
    """A service account; with `view`, bound to the view role in its namespace (Node,RBAC
    is the default: an unbound account may not even list pods)."""
    core = client.CoreV1Api(api_client)
    sa = core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name=name)))
    if view:
        try:
            client.RbacAuthorizationV1Api(api_client).create_namespaced_role_binding(namespace, {
                "metadata": {"name": f"{name}-views"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
        except client.exceptions.ApiException as e:
            if e.status != 409:     # bound already (an account of that name was here before)
                raise
    return sa


def _list_pods_status(server, token: str, namespace: str) -> int:
    with _client_with_token(server, token) as api:
        try:
            client.CoreV1Api(api).list_namespaced_pod(namespace)
            return 200
        except ApiException as e:
            return e.status


# --- kubectl auth ---------------------------------------------------------------

def test_whoami_prints_the_admin(kubectl):
    out = kubectl("auth", "whoami").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["ATTRIBUTE", "VALUE"]
    assert any(line.split() == ["Username", "kubernetes-admin"] for line in lines)
    assert "system:masters" in out and "system:authenticated" in out


def test_whoami_on_kubectl_1_27_wants_the_alpha_api(kubectl):
    # kubectl 1.27 asks authentication.k8s.io/v1alpha1|v1beta1, which (like kube-apiserver 1.33) we do not serve.
    cp = kubectl("auth", "whoami", version="1.27", check=False)
    assert cp.returncode != 0 and "selfsubjectreviews API is not enabled" in cp.stderr


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_can_i(kubectl, version):
    cp = kubectl("auth", "can-i", "create", "pods", version=version)
    assert cp.stdout.strip() == "yes" and cp.returncode == 0
    listed = kubectl("auth", "can-i", "--list", "-n", "default", version=version).stdout.splitlines()
    assert listed[0].split()[:3] == ["Resources", "Non-Resource", "URLs"]
    assert any(line.split() == ["*.*", "[]", "[]", "[*]"] for line in listed)


def test_can_i_as_service_account_token(server, kubectl, api_client, namespace, kubectl_cache_dir):
    _service_account(api_client, namespace, view=False)
    token = kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    # --token replaces a kubeconfig's token, not its client certificate (which would log in first)
    by_token = kubectl_runner(server.token_kubeconfig, kubectl_cache_dir)
    whoami = by_token("auth", "whoami", f"--token={token}").stdout
    assert f"system:serviceaccount:{namespace}:default" in whoami
    assert f"system:serviceaccounts:{namespace}" in whoami and "credential-id" in whoami
    # Node,RBAC by default: a service account may do nothing until a role is bound to it
    assert by_token("auth", "can-i", "list", "pods", "-n", namespace, f"--token={token}",
                    check=False).stdout.strip() == "no"
    _grant_view(kubectl, namespace)
    assert by_token("auth", "can-i", "list", "pods", "-n", namespace, f"--token={token}").stdout.strip() == "yes"


def _grant_view(kubectl, namespace: str) -> None:
    kubectl("create", "rolebinding", "default-views", "--clusterrole=view",
            f"--serviceaccount={namespace}:default", "-n", namespace)


# --- service-account tokens ----------------------------------------------------

def test_created_token_lists_pods_until_its_service_account_is_deleted(server, kubectl, api_client, namespace):
    _service_account(api_client, namespace, view=False)
    token = kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    assert token.count(".") == 2
    assert _list_pods_status(server, token, namespace) == 403
    _grant_view(kubectl, namespace)
    assert _list_pods_status(server, token, namespace) == 200
    client.CoreV1Api(api_client).delete_namespaced_service_account("default", namespace)
    assert _list_pods_status(server, token, namespace) == 401
    # A new service account of the same name has a new uid: the old token stays dead.
    _service_account(api_client, namespace)
    assert _list_pods_status(server, token, namespace) == 401


def test_token_request_via_python_client(server, api_client, namespace):
    sa = _service_account(api_client, namespace, "builder")
    req = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
        audiences=["vault", DEFAULT_ISSUER], expiration_seconds=7200))
    out = client.CoreV1Api(api_client).create_namespaced_service_account_token("builder", namespace, req)
    assert out.spec.audiences == ["vault", DEFAULT_ISSUER] and out.spec.expiration_seconds == 7200
    left = out.status.expiration_timestamp.timestamp() - time.time()
    assert 7000 < left <= 7200
    review = client.AuthenticationV1Api(api_client).create_token_review(client.V1TokenReview(
        spec=client.V1TokenReviewSpec(token=out.status.token, audiences=["vault"])))
    assert review.status.authenticated is True
    assert review.status.audiences == ["vault"]
    assert review.status.user.username == f"system:serviceaccount:{namespace}:builder"
    assert review.status.user.uid == sa.metadata.uid
    assert set(review.status.user.groups) == {"system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                              "system:authenticated"}


def test_token_for_another_audience_is_not_an_api_credential(server, kubectl, api_client, namespace):
    _service_account(api_client, namespace)
    token = kubectl("create", "token", "default", "-n", namespace, "--audience=vault").stdout.strip()
    assert _list_pods_status(server, token, namespace) == 401
    review = client.AuthenticationV1Api(api_client).create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token)))
    assert not review.status.authenticated and "audiences" in review.status.error


def test_token_bound_to_a_pod_dies_with_it(server, kubectl, api_client, namespace):
    _service_account(api_client, namespace)
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")])))
    token = kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind=Pod",
                    "--bound-object-name=web").stdout.strip()
    review = client.AuthenticationV1Api(api_client).create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token)))
    assert review.status.user.extra["authentication.kubernetes.io/pod-name"] == ["web"]
    assert _list_pods_status(server, token, namespace) == 200
    core.delete_namespaced_pod("web", namespace, grace_period_seconds=0)
    deadline = time.monotonic() + 30
    while _list_pods_status(server, token, namespace) != 401:
        assert time.monotonic() < deadline, "the token outlived its pod"
        time.sleep(0.1)


def test_bad_token_requests(kubectl, api_client, namespace):
    cp = kubectl("create", "token", "nobody", "-n", namespace, check=False)
    assert cp.returncode != 0 and 'serviceaccounts "nobody" not found' in cp.stderr
    _service_account(api_client, namespace)
    cp = kubectl("create", "token", "default", "-n", namespace, "--duration=5m", check=False)
    assert cp.returncode != 0 and "may not specify a duration less than 10 minutes" in cp.stderr
    cp = kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind=Pod",
                 "--bound-object-name=ghost", check=False)
    assert cp.returncode != 0 and 'pods "ghost" not found' in cp.stderr


def test_expired_and_garbage_tokens_get_401(server, api_client, namespace):
    sa = _service_account(api_client, namespace)
    pki = server.data_dir / "pki"
    signer = TokenSigner.from_pem((pki / "sa.key").read_bytes(), (pki / "sa.pub").read_bytes())
    claims = token_claims(issuer=DEFAULT_ISSUER, audiences=[DEFAULT_ISSUER], namespace=namespace, name="default",
                          uid=sa.metadata.uid, expiration_seconds=600, now=int(time.time()) - 3600)
    expired = signer.sign(claims)
    assert _list_pods_status(server, expired, namespace) == 401
    fresh = signer.sign({**claims, "exp": int(time.time()) + 600})
    assert _list_pods_status(server, fresh, namespace) == 200
    for garbage in ("garbage", fresh[:-4] + "AAAA", "eyJ.eyJ.x"):
        assert _list_pods_status(server, garbage, namespace) == 401
    review = client.AuthenticationV1Api(api_client).create_token_review(
        client.V1TokenReview(spec=client.V1TokenReviewSpec(token=expired)))
    assert not review.status.authenticated and "expired" in review.status.error


# --- access reviews, raw HTTP ----------------------------------------------------

def test_self_subject_access_review_as_table_is_406(server):
    # The upstream conformance row "should return a 406 for a backend which does not implement metadata".
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}}
    with _http(server, server.token) as c:
        r = c.post(f"{AUTHZ}/selfsubjectaccessreviews", json=body,
                   headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        assert r.status_code == 406 and r.json()["reason"] == "NotAcceptable"
        ok = c.post(f"{AUTHZ}/selfsubjectaccessreviews?dryRun=All", json=body)
        assert ok.status_code == 201
        assert ok.json()["status"] == {"allowed": True} and ok.json()["spec"] == body["spec"]


def test_access_review_spec_errors(server):
    with _http(server, server.token) as c:
        r = c.post(f"{AUTHZ}/selfsubjectaccessreviews", json={"spec": {}})
        assert r.status_code == 422 and "exactly one of nonResourceAttributes or resourceAttributes" in r.json()["message"]
        r = c.post(f"{AUTHZ}/subjectaccessreviews", json={"spec": {"resourceAttributes": {"verb": "get"}}})
        assert r.status_code == 422 and "at least one of user or group" in r.json()["message"]
        r = c.post(f"{AUTHZ}/selfsubjectrulesreviews", json={"spec": {}})
        assert r.status_code == 400


def test_subject_access_review_asks_the_authorizer(api_client):
    out = client.AuthorizationV1Api(api_client).create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user="bob", groups=["dev"], resource_attributes=client.V1ResourceAttributes(
            verb="delete", resource="nodes"))))
    assert out.status.allowed is False   # Node,RBAC by default: bob holds no role
    assert out.spec.user == "bob"
    out = client.AuthorizationV1Api(api_client).create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user="carol", groups=["system:masters"],
                                              resource_attributes=client.V1ResourceAttributes(
                                                  verb="delete", resource="nodes"))))
    assert out.status.allowed is True


def test_always_deny_server(server_factory):
    srv = server_factory(extra_args=["--authorization-mode=AlwaysDeny"])
    sar = {"spec": {"user": "bob", "resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "x"}}}
    with _http(srv, srv.token) as c:   # the admin is in system:masters, which no mode can deny
        r = c.post(f"{AUTHZ}/subjectaccessreviews", json=sar)
        assert r.json()["status"] == {"allowed": False, "reason": "Everything is forbidden."}
        sar["spec"]["groups"] = ["system:masters"]
        assert c.post(f"{AUTHZ}/subjectaccessreviews", json=sar).json()["status"]["allowed"] is True
        rules = c.post(f"{AUTHZ}/selfsubjectrulesreviews", json={"spec": {"namespace": "x"}}).json()["status"]
        assert rules["resourceRules"] == [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]


# --- OIDC discovery --------------------------------------------------------------

def test_oidc_discovery_serves_the_signing_key(server, kubectl, api_client, namespace):
    from cryptography.hazmat.primitives.asymmetric import ec
    import base64

    with _http(server, server.token) as c:
        conf = c.get("/.well-known/openid-configuration").json()
        keys = c.get("/openid/v1/jwks").json()["keys"]
    assert conf["issuer"] == DEFAULT_ISSUER and conf["jwks_uri"].endswith("/openid/v1/jwks")
    assert conf["id_token_signing_alg_values_supported"] == ["ES256"]
    dec = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")  # noqa: E731
    public = ec.EllipticCurvePublicNumbers(dec(keys[0]["x"]), dec(keys[0]["y"]), ec.SECP256R1()).public_key()
    _service_account(api_client, namespace)
    token = kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    assert TokenSigner(None, public).verify(token)["sub"] == f"system:serviceaccount:{namespace}:default"
    with _http(server, None) as c:
        assert c.get("/openid/v1/jwks").status_code == 401


def test_early_answer_to_a_post_keeps_the_h2_connection(server):
    # kubectl 1.27 `auth whoami` POSTs to APIs we do not serve; the 404 goes out before the
    # body has arrived, and the connection client-go shares for everything must survive that.
    with httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)),
                      http2=True, headers={"Authorization": f"Bearer {server.token}"}, timeout=30) as c:
        for _ in range(5):
            r = c.post("/apis/authentication.k8s.io/v1alpha1/selfsubjectreviews", content=b"{" + b" " * 300_000 + b"}",
                       headers={"Content-Type": "application/json"})
            assert r.status_code == 404 and r.http_version == "HTTP/2"
            assert c.get("/version").status_code == 200


def test_tokens_bound_to_a_node_or_a_pod_on_a_node(server, kubectl, api_client, namespace):
    _service_account(api_client, namespace)
    core = client.CoreV1Api(api_client)
    node = f"node-{namespace}"
    node_uid = core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=node))).metadata.uid
    try:
        core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name="on-node"),
            spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(name="c", image="busybox")])))
        on_pod = kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind=Pod",
                         "--bound-object-name=on-node").stdout.strip()
        extra = client.AuthenticationV1Api(api_client).create_token_review(
            client.V1TokenReview(spec=client.V1TokenReviewSpec(token=on_pod))).status.user.extra
        assert extra["authentication.kubernetes.io/node-name"] == [node]
        assert extra["authentication.kubernetes.io/node-uid"] == [node_uid]
        on_node = kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind=Node",
                          f"--bound-object-name={node}").stdout.strip()
        assert _list_pods_status(server, on_node, namespace) == 200
    finally:
        core.delete_node(node)
    assert _list_pods_status(server, on_node, namespace) == 401
    assert _list_pods_status(server, on_pod, namespace) == 200   # the pod's node is a record, not a binding
