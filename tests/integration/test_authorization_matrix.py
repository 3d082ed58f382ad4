"""Secure by default: a server started with no authorization flags (Node,RBAC and
NodeRestriction), asked by each kind of caller, answers as kube-apiserver would.

Callers: no credentials, a service account bound to nothing, two nodes (each for
its own and the other's objects), and the proxy, DNS, scheduler and controller
manager identities, all by bearer token (--token-auth-file)."""
from __future__ import annotations

import base64
import json
import ssl
import uuid

import httpx
import pytest

from tests.harness import running_server

TOKENS = {
    "node1": ("system:node:n1", "system:nodes"),
    "node2": ("system:node:n2", "system:nodes"),
    "proxy": ("system:kube-proxy", ""),
    "dns": ("system:kube-dns", ""),
    "scheduler": ("system:kube-scheduler", ""),
    "cm": ("system:kube-controller-manager", ""),
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("authz")
    lines = [f'{key}-{uuid.uuid4().hex},{user},{user},"{group}"' for key, (user, group) in TOKENS.items()]
    (tmp / "tokens.csv").write_text("\n".join(lines) + "\n")
    tokens = {key: line.split(",")[0] for key, line in zip(TOKENS, lines)}
    with running_server(tmp / "data", extra_args=["--token-auth-file", str(tmp / "tokens.csv")]) as srv:
        ctx = ssl.create_default_context(cafile=str(srv.ca_file))
        clients = {key: httpx.Client(base_url=srv.url, verify=ctx, timeout=30,
                                     headers={"Authorization": f"Bearer {tok}"}) for key, tok in tokens.items()}
        clients["anonymous"] = httpx.Client(base_url=srv.url, verify=ctx, timeout=30)
        admin = clients["admin"] = srv.http_client()
        _objects(admin)
        sa = admin.post("/api/v1/namespaces/team/serviceaccounts/nobody/token",
                        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        assert sa.status_code == 201, sa.text
        clients["sa"] = httpx.Client(base_url=srv.url, verify=ctx, timeout=30,
                                     headers={"Authorization": f"Bearer {sa.json()['status']['token']}"})
        yield clients
        for c in clients.values():
            c.close()


def _objects(admin: httpx.Client) -> None:
    def post(path, body):
        r = admin.post(path, json=body)
        assert r.status_code in (201, 409), (path, r.text)
    post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    for sa in ("nobody", "default"):     # no controllers here: the pods' "default" is made by hand
        post("/api/v1/namespaces/team/serviceaccounts", {"metadata": {"name": sa}})
    for name in ("n1", "n2"):
        post("/api/v1/nodes", {"metadata": {"name": name}})
    for name in ("used-by-n1", "used-by-n2", "unused"):
        post("/api/v1/namespaces/team/secrets", {"metadata": {"name": name}, "stringData": {"k": "v"}})
        post("/api/v1/namespaces/team/configmaps", {"metadata": {"name": name}, "data": {"k": "v"}})
    for node in ("n1", "n2"):
        post("/api/v1/namespaces/team/pods", {"metadata": {"name": f"on-{node}"}, "spec": {
            "nodeName": node, "containers": [{"name": "c", "image": "busybox", "env": [
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": f"used-by-{node}", "key": "k"}}}]}],
            "volumes": [{"name": "cm", "configMap": {"name": f"used-by-{node}"}}]}})


def _mirror(name: str, node: str, **spec) -> dict:
    return {"metadata": {"name": name, "annotations": {"kubernetes.io/config.mirror": "x"}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}], **spec}}


def _token_request(ref: dict | None) -> dict:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"boundObjectRef": ref} if ref is not None else {}}


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


LEASE = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"holderIdentity": "x"}}

# (caller, method, path, body or None, expected status)
MATRIX = [
    # no credentials: health and version only
    ("anonymous", "GET", "/healthz", None, 200),
    ("anonymous", "GET", "/version", None, 200),
    ("anonymous", "GET", "/api/v1/namespaces", None, 401),
    ("anonymous", "GET", "/openapi/v2", None, 401),
    # a service account bound to nothing: discovery and self-review only
    ("sa", "GET", "/api", None, 200),
    ("sa", "GET", "/openapi/v2", None, 200),
    ("sa", "GET", "/api/v1/namespaces/team/pods", None, 403),
    ("sa", "GET", "/api/v1/namespaces/team/secrets/unused", None, 403),
    ("sa", "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
     {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, 201),
    # a node: its own pods' secrets and configmaps, no one else's
    ("node1", "GET", "/api/v1/namespaces/team/secrets/used-by-n1", None, 200),
    ("node1", "GET", "/api/v1/namespaces/team/configmaps/used-by-n1", None, 200),
    ("node1", "GET", "/api/v1/namespaces/team/secrets/used-by-n2", None, 403),
    ("node1", "GET", "/api/v1/namespaces/team/secrets/unused", None, 403),
    ("node1", "GET", "/api/v1/namespaces/team/secrets", None, 403),
    ("node1", "GET", "/api/v1/secrets", None, 403),
    ("node2", "GET", "/api/v1/namespaces/team/secrets/used-by-n2", None, 200),
    # ... reads nodes and pods, writes its own Node, status, lease, mirror pods
    ("node1", "GET", "/api/v1/nodes", None, 200),
    ("node1", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", None, 200),
    ("node1", "PATCH", "/api/v1/nodes/n1", {"metadata": {"labels": {"mine": "yes"}}}, 200),
    ("node1", "PATCH", "/api/v1/nodes/n2", {"metadata": {"labels": {"mine": "yes"}}}, 403),
    ("node1", "PATCH", "/api/v1/nodes/n1",
     {"metadata": {"labels": {"node-restriction.kubernetes.io/trusted": "yes"}}}, 403),
    ("node1", "PATCH", "/api/v1/nodes/n1", {"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}, 403),
    ("node1", "DELETE", "/api/v1/nodes/n2", None, 403),
    ("node1", "PATCH", "/api/v1/namespaces/team/pods/on-n1/status", {"status": {"message": "hi"}}, 200),
    ("node1", "PATCH", "/api/v1/namespaces/team/pods/on-n2/status", {"status": {"message": "hi"}}, 403),
    ("node1", "PATCH", "/api/v1/namespaces/team/pods/on-n1", {"metadata": {"labels": {"a": "b"}}}, 403),
    ("node1", "POST", "/api/v1/namespaces/team/pods", _mirror("mirror-n1", "n1"), 201),
    ("node1", "POST", "/api/v1/namespaces/team/pods", _mirror("mirror-n2", "n2"), 403),
    ("node1", "POST", "/api/v1/namespaces/team/pods",
     {"metadata": {"name": "plain"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "b"}]}}, 403),
    ("node1", "POST", "/api/v1/namespaces/team/pods", _mirror("sneaky", "n1", volumes=[
        {"name": "s", "secret": {"secretName": "unused"}}]), 403),
    ("node1", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
     {**LEASE, "metadata": {"name": "n1"}}, 201),
    ("node1", "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
     {**LEASE, "metadata": {"name": "n2"}}, 403),
    ("node1", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
     {"metadata": {"name": "n1-admin"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
      "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "system:node:n1"}]}, 403),
    ("node1", "DELETE", "/api/v1/namespaces/team/pods/on-n2", None, 403),
    # the proxy: services, slices, nodes; status of services (ServiceLB); no secrets
    ("proxy", "GET", "/apis/discovery.k8s.io/v1/endpointslices", None, 200),
    ("proxy", "GET", "/api/v1/services", None, 200),
    ("proxy", "GET", "/api/v1/secrets", None, 403),
    ("proxy", "DELETE", "/api/v1/namespaces/team/pods/on-n1", None, 403),
    # DNS: reads services, slices and pods; keeps its Service in kube-system only
    ("dns", "GET", "/api/v1/pods", None, 200),
    ("dns", "POST", "/api/v1/namespaces/kube-system/services",
     {"metadata": {"name": "dns-made"}, "spec": {"ports": [{"port": 53}]}}, 201),
    ("dns", "POST", "/api/v1/namespaces/team/services",
     {"metadata": {"name": "dns-made"}, "spec": {"ports": [{"port": 53}]}}, 403),
    ("dns", "GET", "/api/v1/configmaps", None, 403),
    # the scheduler: binds pods, reads what placement needs, no secrets
    ("scheduler", "GET", "/api/v1/nodes", None, 200),
    ("scheduler", "GET", "/api/v1/secrets", None, 403),
    # the controller manager: everything but raising its own rights
    ("cm", "GET", "/api/v1/secrets", None, 200),
    ("cm", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
     {"metadata": {"name": "cm-admin"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
      "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "system:kube-controller-manager"}]}, 403),
]


@pytest.mark.parametrize("caller,method,path,body,expected", MATRIX,
                         ids=[f"{c}-{m}-{p}-{e}" for c, m, p, _b, e in MATRIX])
def test_authorization_matrix(cluster, caller, method, path, body, expected):
    headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
    r = cluster[caller].request(method, path, json=body, headers=headers)
    assert r.status_code == expected, f"{caller} {method} {path}: {r.status_code} {r.text[:300]}"
    if expected == 403:
        assert r.json()["reason"] == "Forbidden"


def test_forbidden_messages_name_the_node_and_the_reason(cluster):
    r = cluster["node1"].get("/api/v1/namespaces/team/secrets/unused")
    assert r.json()["message"] == ('secrets "unused" is forbidden: User "system:node:n1" cannot get resource '
                                   '"secrets" in API group "" in the namespace "team": no relationship found '
                                   "between node 'n1' and this object")
    r = cluster["node1"].patch("/api/v1/nodes/n2", json={"metadata": {"labels": {"x": "y"}}},
                               headers={"Content-Type": "application/merge-patch+json"})
    assert r.json()["message"] == 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'


def test_a_node_gets_tokens_only_for_its_own_pods(cluster):
    """NodeRestriction on serviceaccounts/token: bound to a pod of the node, by name and uid."""
    admin, node1 = cluster["admin"], cluster["node1"]
    pods = {n: admin.get(f"/api/v1/namespaces/team/pods/on-{n}").json()["metadata"]["uid"] for n in ("n1", "n2")}
    n1_uid = admin.get("/api/v1/nodes/n1").json()["metadata"]["uid"]
    url = "/api/v1/namespaces/team/serviceaccounts/default/token"

    def pod_ref(name, uid):
        return {"apiVersion": "v1", "kind": "Pod", "name": name, **({"uid": uid} if uid else {})}
    mine = node1.post(url, json=_token_request(pod_ref("on-n1", pods["n1"])))
    assert mine.status_code == 201, mine.text
    token = mine.json()["status"]["token"]
    claims = _claims(token)["kubernetes.io"]
    assert claims["pod"] == {"name": "on-n1", "uid": pods["n1"]}
    assert claims["node"] == {"name": "n1", "uid": n1_uid}     # the pod's node, as upstream records it
    review = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}).json()
    assert review["status"]["user"]["username"] == "system:serviceaccount:team:default"
    assert review["status"]["user"]["extra"]["authentication.kubernetes.io/node-name"] == ["n1"]

    refused = {
        "node requested token bound to a pod scheduled on a different node": pod_ref("on-n2", pods["n2"]),
        "node requested token not bound to a pod": None,
        "node requested token with a pod binding without a uid": pod_ref("on-n1", ""),
        "the UID in the bound object reference (0000) does not match the UID in record. The object might have "
        "been deleted and then recreated": pod_ref("on-n1", "0000"),
    }
    for reason, ref in refused.items():
        r = node1.post(url, json=_token_request(ref))
        assert r.status_code == 403, (ref, r.text)
        assert r.json()["message"] == f'serviceaccounts "default" is forbidden: {reason}'
    secret = admin.get("/api/v1/namespaces/team/secrets/used-by-n1").json()["metadata"]["uid"]
    r = node1.post(url, json=_token_request({"apiVersion": "v1", "kind": "Secret", "name": "used-by-n1",
                                             "uid": secret}))
    assert r.status_code == 403 and r.json()["message"].endswith("node requested token not bound to a pod")
    # a service account no pod of the node runs as: the Node authorizer says no before admission
    r = node1.post("/api/v1/namespaces/team/serviceaccounts/nobody/token",
                   json=_token_request(pod_ref("on-n1", pods["n1"])))
    assert r.status_code == 403
    assert r.json()["message"].endswith("no relationship found between node 'n1' and this object")
    # another node, for its own pod: allowed; an admin is not restricted
    r = cluster["node2"].post(url, json=_token_request(pod_ref("on-n2", pods["n2"])))
    assert r.status_code == 201 and _claims(r.json()["status"]["token"])["kubernetes.io"]["node"]["name"] == "n2"
    assert admin.post(url, json=_token_request(None)).status_code == 201
