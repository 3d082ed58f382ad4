"""The roles and bindings a fresh cluster starts with (upstream's bootstrap policy, in part).

  cluster-admin                         everything; bound to the group system:masters
  admin, edit, view                     the user-facing roles, aggregated from system:aggregate-to-*
  system:basic-user                     self reviews (whoami, can-i); bound to system:authenticated
  system:discovery                      discovery and OpenAPI documents; system:authenticated
  system:public-info-viewer             health and version; everyone
  system:service-account-issuer-discovery   OIDC discovery; every service account
  system:certificates.k8s.io:...        node client auto-approval (nodeclient, selfnodeclient), the
                                        per-signer approver roles, system:node-bootstrapper
  pocketkube:cluster-viewer             (ours) what the cluster page (/ui/) reads: nodes, pods,
                                        Services, EndpointSlices, events, and /metrics; bound to the
                                        group of the page's token (apiserver.auth.credentials)
  the components' own roles           rbac_component_roles.py (proxy, DNS, scheduler, controller
                                        manager); nodes are authorized by the Node mode
  system:controller:*, system:kube-controller-manager   rbac_controller_roles.py: each
                                        controller's, and the manager's own identity's
  system::leader-locking-kube-controller-manager   (a Role in kube-system) any Lease there, for
                                        the manager's leader election under another lease name

Created when missing on every start; existing ones are left as the operator made them.
"""
from __future__ import annotations

from apiserver.auth.credentials import PAGE_GROUP
from apiserver.machinery.errors import StatusError
from apiserver.registry.context import WriteContext
from apiserver.registry.options import DeleteOptions

from . import rbac_component_roles as components
from . import rbac_controller_roles as controllers

GROUP = "rbac.authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"
_META = {"labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}


def _role(name: str, rules: list[dict]) -> dict:
    return {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": {"name": name, **_META}, "rules": rules}


def _binding(name: str, role: str, subjects: list[tuple[str, str]]) -> dict:
    return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding", "metadata": {"name": name, **_META},
            "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": k, "apiGroup": GROUP, "name": n} for k, n in subjects]}


def _get(*urls: str) -> dict:
    return {"verbs": ["get"], "nonResourceURLs": list(urls)}


CLUSTER_ROLES = [
    _role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                            {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
    _role("system:basic-user", [
        {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
         "verbs": ["create"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
    _role("system:discovery", [_get("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                    "/openapi/*", "/readyz", "/version", "/version/")]),
    _role("system:monitoring", [_get("/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis",
                                     "/readyz", "/readyz/*")]),
    _role("system:public-info-viewer", [_get("/healthz", "/livez", "/readyz", "/version", "/version/")]),
    _role("system:service-account-issuer-discovery", [
        _get("/.well-known/openid-configuration", "/.well-known/openid-configuration/",
             "/openid/v1/jwks", "/openid/v1/jwks/")]),
]

# The user-facing roles (bind them with `kubectl create rolebinding --clusterrole=edit ...`):
# admin, edit and view aggregate the system:aggregate-to-* roles and one another, as upstream.
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_AGG = "rbac.authorization.k8s.io/aggregate-to-"
_CORE_READ = ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
              "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
              "services/status", "bindings", "events", "limitranges", "namespaces/status", "pods/log",
              "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]
_WORKLOADS = [("apps", ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                        "deployments/status", "replicasets", "replicasets/scale", "replicasets/status",
                        "statefulsets", "statefulsets/scale", "statefulsets/status"]),
              ("autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
              ("batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
              ("policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
              ("networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"]),
              ("discovery.k8s.io", ["endpointslices"])]


def _rule(verbs: list[str], group: str, resources: list[str]) -> dict:
    return {"verbs": verbs, "apiGroups": [group], "resources": resources}


def _labelled(role: dict, **labels: str) -> dict:
    role["metadata"] = {**role["metadata"], "labels": {**role["metadata"]["labels"], **labels}}
    return role


def _aggregate(name: str, source: str, **labels: str) -> dict:
    role = _labelled(_role(name, []), **labels)
    role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {_AGG + source: "true"}}]}
    return role


CLUSTER_ROLES += [
    _aggregate("admin", "admin"),
    _aggregate("edit", "edit", **{_AGG + "admin": "true"}),
    _aggregate("view", "view", **{_AGG + "edit": "true"}),
    _labelled(_role("system:aggregate-to-view", [
        _rule(_READ, "", _CORE_READ), _rule(_READ, "", ["namespaces"]),
        *[_rule(_READ, g, rs) for g, rs in _WORKLOADS]]), **{_AGG + "view": "true"}),
    _labelled(_role("system:aggregate-to-edit", [
        _rule(["impersonate"], "", ["serviceaccounts"]),
        _rule(_WRITE, "", ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
        _rule(["create"], "", ["pods/eviction"]),
        _rule(_WRITE, "", ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                           "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
                           "services/proxy"]),
        _rule(["create"], "", ["serviceaccounts/token"]),
        _rule(_READ, "", ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
                          "services/proxy"]),
        *[_rule(_WRITE, g, [r for r in rs if not r.endswith("/status")]) for g, rs in _WORKLOADS]]),
        **{_AGG + "edit": "true"}),
    _labelled(_role("system:aggregate-to-admin", [
        _rule(["create"], "authorization.k8s.io", ["localsubjectaccessreviews"]),
        _rule([*_READ, *_WRITE], GROUP, ["rolebindings", "roles"])]), **{_AGG + "admin": "true"}),
]

# Certificates (upstream's names): who may have node client requests auto-approved, who may
# approve for a signer, and what a joining node's bootstrap credential may do.
_CSR = "certificates.k8s.io"
CLUSTER_ROLES += [
    _role("system:certificates.k8s.io:certificatesigningrequests:nodeclient",
          [_rule(["create"], _CSR, ["certificatesigningrequests/nodeclient"])]),
    _role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
          [_rule(["create"], _CSR, ["certificatesigningrequests/selfnodeclient"])]),
    *[_role(f"system:certificates.k8s.io:{signer}-approver",
            [{"verbs": ["approve"], "apiGroups": [_CSR], "resources": ["signers"],
              "resourceNames": [f"kubernetes.io/{signer}"]}])
      for signer in ("kube-apiserver-client", "kube-apiserver-client-kubelet", "kubelet-serving")],
    _role("system:node-bootstrapper", [_rule(["create", "get", "list", "watch"], _CSR, ["certificatesigningrequests"])]),
]

CLUSTER_ROLES.append(_role("pocketkube:cluster-viewer", [
    _rule(_READ, "", ["nodes", "pods", "services", "events", "namespaces"]),
    _rule(_READ, "discovery.k8s.io", ["endpointslices"]),
    _get("/metrics")]))

CLUSTER_ROLE_BINDINGS = [
    _binding("cluster-admin", "cluster-admin", [("Group", "system:masters")]),
    _binding("system:basic-user", "system:basic-user", [("Group", "system:authenticated")]),
    _binding("system:discovery", "system:discovery", [("Group", "system:authenticated")]),
    _binding("system:monitoring", "system:monitoring", [("Group", "system:monitoring")]),
    _binding("system:public-info-viewer", "system:public-info-viewer",
             [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
    _binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
             [("Group", "system:serviceaccounts")]),
    _binding("pocketkube:cluster-viewer", "pocketkube:cluster-viewer", [("Group", PAGE_GROUP)]),
    # kubeadm's, for nodes joining with a bootstrap token (`pocketkube token create`): they may ask
    # for a client certificate, which is approved for them, and renew it once they are nodes.
    _binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper",
             [("Group", "system:bootstrappers:kubeadm:default-node-token")]),
    _binding("kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
             [("Group", "system:bootstrappers:kubeadm:default-node-token")]),
    _binding("kubeadm:node-autoapprove-certificate-rotation",
             "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [("Group", "system:nodes")]),
]

CLUSTER_ROLES += [_role(name, rules) for name, rules in components.ROLES.items()]
CLUSTER_ROLE_BINDINGS += [_binding(name, role, [(kind, subject)])
                          for name, role, kind, subject in components.CLUSTER_BINDINGS]


def _role_binding(namespace: str, name: str, role: str, kind: str, subject: str) -> dict:
    b = _binding(name, role, [(kind, subject)])
    b["kind"] = "RoleBinding"
    b["metadata"] = {**b["metadata"], "namespace": namespace}
    return b


ROLE_BINDINGS = [_role_binding(*b) for b in components.NAMESPACED_BINDINGS]


def _to_service_account(binding: dict, account: str) -> dict:
    binding["subjects"] = [{"kind": "ServiceAccount", "name": account, "namespace": "kube-system"}]
    return binding


# --use-service-account-credentials: each controller's role, bound to its account in kube-system
CLUSTER_ROLES += [_role(controllers.PREFIX + a, rules) for a, rules in controllers.CONTROLLER_ROLES.items()]
CLUSTER_ROLE_BINDINGS += [_to_service_account(_binding(controllers.PREFIX + a, controllers.PREFIX + a, []), a)
                          for a in controllers.CONTROLLER_ROLES]
CLUSTER_ROLES += [_role(name, rules) for name, _ns, rules in controllers.NAMESPACED_CONTROLLER_ROLES]
ROLE_BINDINGS += [_to_service_account(_role_binding(ns, name, name, "User", ""), controllers.BOOTSTRAP_SIGNER)
                  for name, ns, _rules in controllers.NAMESPACED_CONTROLLER_ROLES]
CLUSTER_ROLE_BINDINGS += [_to_service_account(_binding(f"pocketkube:{controllers.SCHEDULER_ACCOUNT}:{role}", role, []),
                                              controllers.SCHEDULER_ACCOUNT) for role in controllers.SCHEDULER_ROLES]
CLUSTER_ROLES.append(_role(controllers.MANAGER_USER, controllers.MANAGER_ROLE))
CLUSTER_ROLE_BINDINGS.append(_binding(controllers.MANAGER_USER, controllers.MANAGER_USER,
                                      [("User", controllers.MANAGER_USER)]))
# kube-system Roles (upstream's leader locking), each bound by a RoleBinding of the same name
ROLES = [{"apiVersion": API_VERSION, "kind": "Role", "rules": controllers.LEADER_LOCKING_RULES,
          "metadata": {"name": controllers.LEADER_LOCKING, "namespace": "kube-system", **_META}}]
ROLE_BINDINGS.append({
    "apiVersion": API_VERSION, "kind": "RoleBinding",
    "metadata": {"name": controllers.LEADER_LOCKING, "namespace": "kube-system", **_META},
    "roleRef": {"apiGroup": GROUP, "kind": "Role", "name": controllers.LEADER_LOCKING},
    "subjects": [{"kind": "User", "apiGroup": GROUP, "name": name} if kind == "User" else
                 {"kind": kind, "name": name, "namespace": "kube-system"}
                 for kind, name in controllers.LEADER_LOCKING_SUBJECTS]})


async def ensure_bootstrap_policy(registries) -> None:
    for plural, objs in (("clusterroles", CLUSTER_ROLES), ("clusterrolebindings", CLUSTER_ROLE_BINDINGS),
                         ("roles", ROLES), ("rolebindings", ROLE_BINDINGS)):
        gs = registries.for_plural(GROUP, plural)
        for obj in objs:
            ns = obj["metadata"].get("namespace", "")
            if await gs.get_or_none(ns, obj["metadata"]["name"]) is not None:
                continue
            try:
                await gs.create(ns, _copy(obj), WriteContext())
            except StatusError as e:
                if e.code != 409:  # another server of the same cluster made it first
                    raise
    # an older version bound every component (and every node) to cluster-admin: no more
    bindings = registries.for_plural(GROUP, "clusterrolebindings")
    for name in components.RETIRED_CLUSTER_BINDINGS:
        old = await bindings.get_or_none("", name)
        if old is not None and ((old.obj.get("metadata") or {}).get("labels") or {}).get(
                "kubernetes.io/bootstrapping") == "rbac-defaults":
            try:
                await bindings.delete("", name, DeleteOptions(), WriteContext())
            except StatusError as e:
                if e.code != 404:
                    raise


def _copy(obj: dict) -> dict:
    import copy
    return copy.deepcopy(obj)
