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

from tests.harness import free_port, running_server

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
        yield {**clients, "ssl": ctx}
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
    # every node agent "listens" on a closed loopback port: what is allowed reaches no further
    closed = free_port()
    for name in ("n1", "n2"):
        r = admin.patch(f"/api/v1/nodes/{name}/status", headers={"Content-Type": "application/merge-patch+json"},
                        json={"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                                         "daemonEndpoints": {"kubeletEndpoint": {"Port": closed}}}})
        assert r.status_code == 200, r.text
    post("/api/v1/namespaces/team/services", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    for name, node in (("evict-n1", "n1"), ("evict-n2", "n2"), ("pending", None)):
        post("/api/v1/namespaces/team/pods", {"metadata": {"name": name}, "spec": {
            **({"nodeName": node} if node else {}), "containers": [{"name": "c", "image": "busybox"}]}})
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


# ---- the subresources, for every kind of caller -----------------------------------------
ALLOWED = "allowed"   # authorized: anything but 401 and 403 (the node agent behind it is not there)
P = "/api/v1/namespaces/team/pods"
SPDY = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "v4.channel.k8s.io"}
# name: (method, path with {n} for the node whose objects are asked for, body, headers)
SUBRESOURCES = {
    "log": ("GET", P + "/on-{n}/log", None, {}),
    "exec": ("POST", P + "/on-{n}/exec?command=true&stdout=true", None, SPDY),
    "attach": ("POST", P + "/on-{n}/attach?stdout=true", None, SPDY),
    "portforward": ("POST", P + "/on-{n}/portforward?ports=80", None, SPDY),
    "pods/proxy": ("GET", P + "/on-{n}/proxy/", None, {}),
    "nodes/proxy": ("GET", "/api/v1/nodes/{n}/proxy/healthz", None, {}),
    "services/proxy": ("GET", "/api/v1/namespaces/team/services/web/proxy/", None, {}),
    "binding": ("POST", P + "/pending/binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {
        "name": "pending"}, "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}, {}),
    "eviction": ("POST", P + "/evict-{n}/eviction", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                     "metadata": {"name": "evict-{n}", "namespace": "team"}}, {}),
    "token": ("POST", "/api/v1/namespaces/team/serviceaccounts/default/token", _token_request(None), {}),
    "pods/status": ("PATCH", P + "/on-{n}/status", {"status": {"message": "hi"}}, {}),
    "nodes/status": ("PATCH", "/api/v1/nodes/{n}/status", {"status": {"capacity": {"pods": "110"}}}, {}),
}
# (caller, node of the objects) -> what upstream decides where it is not 403. Nodes get none of the
# kubelet API (log, exec, proxy...) through the API server, not even for their own pods; a node's
# token requests are in test_a_node_gets_tokens_only_for_its_own_pods.
SUB_EXPECTED = {
    ("anonymous", "n1"): {sub: 401 for sub in SUBRESOURCES},
    ("sa", "n1"): {},
    ("proxy", "n1"): {},
    ("dns", "n1"): {},
    ("scheduler", "n1"): {"binding": 201, "pods/status": 200},
    ("node1", "n1"): {"eviction": 201, "pods/status": 200, "nodes/status": 200},
    ("node1", "n2"): {},
    # the controller manager: only what upstream's system:kube-controller-manager has too
    # (main's role is wider until each controller runs with its own service account)
    ("cm", "n1"): {"token": 201},
    ("admin", "n1"): {sub: ALLOWED for sub in ("log", "exec", "attach", "portforward", "pods/proxy",
                                               "nodes/proxy", "services/proxy", "pods/status", "nodes/status")},
}
CM_CHECKED = {"token"}    # the rest differ on main (see above): not asserted
ADMIN_CHECKED = set(SUB_EXPECTED[("admin", "n1")])   # no binding or eviction: the others need those pods
SUB_MATRIX = [(caller, node, sub, SUB_EXPECTED[(caller, node)].get(sub, 403))
              for (caller, node) in SUB_EXPECTED for sub in SUBRESOURCES
              if (caller != "cm" or sub in CM_CHECKED) and (caller != "admin" or sub in ADMIN_CHECKED)]


@pytest.mark.parametrize("caller,node,sub,expected", SUB_MATRIX,
                         ids=[f"{c}-{sub}-of-{n}-{e}" for c, n, sub, e in SUB_MATRIX])
def test_subresources(cluster, caller, node, sub, expected):
    method, path, body, headers = SUBRESOURCES[sub]
    path = path.replace("{n}", node)
    if body is not None:
        body = json.loads(json.dumps(body).replace("{n}", node))
    if method == "PATCH":
        headers = {**headers, "Content-Type": "application/merge-patch+json"}
    c = cluster[caller]
    if "Upgrade" in headers:
        # its own connection: the server may close one whose upgrade it did not take
        with httpx.Client(base_url=c.base_url, verify=cluster["ssl"], headers=c.headers, timeout=30) as one:
            r = one.request(method, path, json=body, headers=headers)
    else:
        r = c.request(method, path, json=body, headers=headers)
    if expected == ALLOWED:
        assert r.status_code not in (401, 403), f"{caller} {method} {path}: {r.status_code} {r.text[:300]}"
    else:
        assert r.status_code == expected, f"{caller} {method} {path}: {r.status_code} {r.text[:300]}"
    if expected == 403:
        assert r.json()["reason"] == "Forbidden"


# ---- every served resource, listed by every caller ------------------------------------
_CORE_READERS = {("", "services"), ("", "endpoints"), ("discovery.k8s.io", "endpointslices")}
# what each may list (upstream's bootstrap roles; the Node authorizer's NodeRules); the rest 403
LISTS = {
    "sa": set(),
    "proxy": _CORE_READERS | {("", "nodes")},
    "dns": _CORE_READERS | {("", "pods")},
    "scheduler": {("", r) for r in ("nodes", "namespaces", "services", "replicationcontrollers", "pods",
                                    "persistentvolumeclaims", "persistentvolumes")}
    | {("apps", "replicasets"), ("apps", "statefulsets"), ("policy", "poddisruptionbudgets")}
    | {("storage.k8s.io", r) for r in ("storageclasses", "csinodes", "csidrivers", "csistoragecapacities")},
    "node1": {("", "nodes"), ("", "pods"), ("", "services"), ("certificates.k8s.io", "certificatesigningrequests"),
              ("storage.k8s.io", "csidrivers"), ("node.k8s.io", "runtimeclasses")},
}


def _served(admin: httpx.Client) -> list[tuple[str, str, str]]:
    """(group, list path, resource) of every listable resource the server serves (preferred versions)."""
    versions = [("", "/api/v1")] + [
        (g["name"], f"/apis/{g['preferredVersion']['groupVersion']}") for g in admin.get("/apis").json()["groups"]]
    out = []
    for group, base in versions:
        for res in admin.get(base).json()["resources"]:
            if "/" not in res["name"] and "list" in res["verbs"]:
                out.append((group, f"{base}/{res['name']}", res["name"]))
    return out


@pytest.mark.parametrize("caller", ["anonymous", "sa", "proxy", "dns", "scheduler", "node1", "cm"])
def test_every_served_resource_lists_as_upstream_decides(cluster, caller):
    served = _served(cluster["admin"])
    assert len(served) > 40 and ("", "/api/v1/pods", "pods") in served
    wrong = []
    for group, path, resource in served:
        r = cluster[caller].get(path)
        if caller == "anonymous":
            ok = r.status_code == 401
        elif caller == "cm":     # list and watch of everything, as upstream's shared informers need
            ok = r.status_code not in (401, 403)
        elif (group, resource) in LISTS[caller]:
            ok = r.status_code == 200
        else:
            ok = r.status_code == 403 and r.json()["reason"] == "Forbidden"
        if not ok:
            wrong.append(f"{path}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"{caller}:\n" + "\n".join(wrong)


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
