"""The API Priority and Fairness configuration kube-apiserver 1.33 keeps in place:
the mandatory objects (exempt and catch-all) and the suggested ones, as upstream's
bootstrap package defines them (flowcontrol.apiserver.k8s.io/v1 form). Each carries
`apf.kubernetes.io/autoupdate-spec: "true"`."""
from __future__ import annotations

AUTOUPDATE = "apf.kubernetes.io/autoupdate-spec"
API_VERSION = "flowcontrol.apiserver.k8s.io/v1"

_ALL_RESOURCES = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": True}
_ALL_NON_RESOURCES = {"verbs": ["*"], "nonResourceURLs": ["*"]}
_EVERYONE = ["system:unauthenticated", "system:authenticated"]


def _group(name: str) -> dict:
    return {"kind": "Group", "group": {"name": name}}


def _user(name: str) -> dict:
    return {"kind": "User", "user": {"name": name}}


def _kube_system_sa(name: str) -> dict:
    return {"kind": "ServiceAccount", "serviceAccount": {"namespace": "kube-system", "name": name}}


def _rule(verbs, groups, resources, namespaces, cluster_scope=False) -> dict:
    r = {"verbs": verbs, "apiGroups": groups, "resources": resources, "namespaces": namespaces}
    if cluster_scope:
        r["clusterScope"] = True
    return r


def _meta(name: str) -> dict:
    return {"name": name, "annotations": {AUTOUPDATE: "true"}}


def _pl_limited(name: str, shares: int, lendable: int, queues=None, hand=None, limit=None) -> dict:
    response = {"type": "Reject"} if queues is None else {
        "type": "Queue", "queuing": {"queues": queues, "handSize": hand, "queueLengthLimit": limit}}
    return {"apiVersion": API_VERSION, "kind": "PriorityLevelConfiguration", "metadata": _meta(name),
            "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": shares, "lendablePercent": lendable,
                                                    "limitResponse": response}}}


def _fs(name: str, level: str, precedence: int, method: str | None, subjects: list[dict],
        resource_rules: list[dict] | None = None, non_resource_rules: list[dict] | None = None) -> dict:
    rule: dict = {"subjects": subjects}
    if resource_rules:
        rule["resourceRules"] = resource_rules
    if non_resource_rules:
        rule["nonResourceRules"] = non_resource_rules
    spec: dict = {"priorityLevelConfiguration": {"name": level}, "matchingPrecedence": precedence, "rules": [rule]}
    if method:
        spec["distinguisherMethod"] = {"type": method}
    return {"apiVersion": API_VERSION, "kind": "FlowSchema", "metadata": _meta(name), "spec": spec}


def _fs_all(name, level, precedence, method, subjects) -> dict:
    return _fs(name, level, precedence, method, subjects, [dict(_ALL_RESOURCES)], [dict(_ALL_NON_RESOURCES)])


def _leader_election_rules(core_namespaces: list[str]) -> list[dict]:
    return [_rule(["get", "create", "update"], [""], ["endpoints", "configmaps"], core_namespaces),
            _rule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], ["*"])]


MANDATORY_PRIORITY_LEVELS = [
    {"apiVersion": API_VERSION, "kind": "PriorityLevelConfiguration", "metadata": _meta("exempt"),
     "spec": {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}}},
    _pl_limited("catch-all", 5, 0),
]
MANDATORY_FLOW_SCHEMAS = [
    _fs_all("exempt", "exempt", 1, None, [_group("system:masters")]),
    _fs_all("catch-all", "catch-all", 10000, "ByUser", [_group(g) for g in _EVERYONE]),
]
SUGGESTED_PRIORITY_LEVELS = [
    _pl_limited("system", 30, 33, 64, 6, 50),
    _pl_limited("node-high", 40, 25, 64, 6, 50),
    _pl_limited("leader-election", 10, 0, 16, 4, 50),
    _pl_limited("workload-high", 40, 50, 128, 6, 50),
    _pl_limited("workload-low", 100, 90, 128, 6, 50),
    _pl_limited("global-default", 20, 50, 128, 6, 50),
]
SUGGESTED_FLOW_SCHEMAS = [
    _fs_all("system-nodes", "system", 500, "ByUser", [_group("system:nodes")]),
    _fs("system-node-high", "node-high", 400, "ByUser", [_group("system:nodes")], [
        _rule(["*"], [""], ["nodes", "nodes/status"], ["*"], True),
        _rule(["*"], ["coordination.k8s.io"], ["leases"], ["*"])]),
    _fs("probes", "exempt", 2, None, [_group(g) for g in _EVERYONE], None,
        [{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz", "/livez"]}]),
    _fs("system-leader-election", "leader-election", 100, "ByUser",
        [_user("system:kube-controller-manager"), _user("system:kube-scheduler"), _kube_system_sa("*")],
        _leader_election_rules(["kube-system"])),
    _fs("endpoint-controller", "workload-high", 150, "ByUser",
        [_user("system:kube-controller-manager"), _kube_system_sa("endpoint-controller")],
        [_rule(["get", "create", "update"], [""], ["endpoints"], ["*"])]),
    _fs("workload-leader-election", "leader-election", 200, "ByUser", [_kube_system_sa("*")],
        _leader_election_rules(["*"])),
    _fs_all("kube-controller-manager", "workload-high", 800, "ByNamespace", [_user("system:kube-controller-manager")]),
    _fs_all("kube-scheduler", "workload-high", 800, "ByNamespace", [_user("system:kube-scheduler")]),
    _fs_all("kube-system-service-accounts", "workload-high", 900, "ByNamespace", [_kube_system_sa("*")]),
    _fs_all("service-accounts", "workload-low", 9000, "ByUser", [_group("system:serviceaccounts")]),
    _fs_all("global-default", "global-default", 9900, "ByUser", [_group(g) for g in _EVERYONE]),
]
MANDATORY_NAMES = {"exempt", "catch-all"}
