"""APF classification: FlowSchema rules matched against requests, precedence order,
dangling schemas, distinguishers, and each level's seats, on the bootstrap configuration."""
from __future__ import annotations

import copy

from apiserver.http.flowcontrol.classifier import Configuration, levels_from
from apiserver.http.flowcontrol.matching import non_resource_rule_matches, resource_rule_matches, subject_matches
from apiserver.http.requestinfo import parse_request_info
from apiserver.machinery.user import UserInfo
from apiserver.registry.resources.flowcontrol.config import (MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS,
                                                             SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS)

AUTHED = "system:authenticated"


def _with_uids(objs):
    out = copy.deepcopy(objs)
    for o in out:
        o["metadata"]["uid"] = "uid-" + o["metadata"]["name"]
        o["spec"].setdefault("matchingPrecedence", 1000) if o["kind"] == "FlowSchema" else None
    return out


def bootstrap(extra_schemas=(), extra_levels=(), seats=150) -> Configuration:
    return Configuration(_with_uids([*MANDATORY_FLOW_SCHEMAS, *SUGGESTED_FLOW_SCHEMAS, *extra_schemas]),
                         _with_uids([*MANDATORY_PRIORITY_LEVELS, *SUGGESTED_PRIORITY_LEVELS, *extra_levels]), seats)


def req(method, path, query=None):
    return parse_request_info(method, path, query or {})


def user(name, *groups):
    return UserInfo(name, groups=(*groups, AUTHED))


def where(config, u, info) -> tuple[str, str, str]:
    c = config.classify(u, info)
    return c.schema.name, c.level.name, c.flow


def test_bootstrap_schemas_classify_as_upstream():
    cfg = bootstrap()
    pods = req("GET", "/api/v1/namespaces/default/pods")
    assert where(cfg, user("admin", "system:masters"), pods) == ("exempt", "exempt", "")
    assert where(cfg, user("alice"), pods) == ("global-default", "global-default", "alice")
    assert where(cfg, UserInfo("system:anonymous", groups=("system:unauthenticated",)),
                 req("GET", "/readyz")) == ("probes", "exempt", "")
    node = user("system:node:n1", "system:nodes")
    assert where(cfg, node, req("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"))[:2] \
        == ("system-node-high", "node-high")
    assert where(cfg, node, req("PUT", "/api/v1/nodes/n1/status"))[:2] == ("system-node-high", "node-high")
    assert where(cfg, node, pods)[:2] == ("system-nodes", "system")
    kcm = user("system:kube-controller-manager")
    assert where(cfg, kcm, req("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x"))[:2] == \
        ("system-leader-election", "leader-election")
    assert where(cfg, kcm, pods) == ("kube-controller-manager", "workload-high", "default")
    assert where(cfg, kcm, req("GET", "/api/v1/nodes")) == ("kube-controller-manager", "workload-high", "")
    sa = user("system:serviceaccount:kube-system:deployment-controller", "system:serviceaccounts")
    assert where(cfg, sa, pods)[:2] == ("kube-system-service-accounts", "workload-high")
    other_sa = user("system:serviceaccount:apps:builder", "system:serviceaccounts")
    assert where(cfg, other_sa, pods) == ("service-accounts", "workload-low", other_sa.name)
    assert where(cfg, user("alice"), req("GET", "/apis"))[0] == "global-default"   # non-resource


def test_precedence_then_name_and_dangling_schemas_skipped():
    mine = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
            "metadata": {"name": "b-mine"}, "spec": {
                "priorityLevelConfiguration": {"name": "workload-low"}, "matchingPrecedence": 50,
                "distinguisherMethod": {"type": "ByNamespace"},
                "rules": [{"subjects": [{"kind": "User", "user": {"name": "alice"}}],
                           "resourceRules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"],
                                              "namespaces": ["team"]}]}]}}
    tie = copy.deepcopy(mine)
    tie["metadata"]["name"] = "a-tie"
    tie["spec"]["priorityLevelConfiguration"]["name"] = "global-default"
    dangling = copy.deepcopy(mine)
    dangling["metadata"]["name"] = "0-dangling"
    dangling["spec"]["priorityLevelConfiguration"]["name"] = "nowhere"
    dangling["spec"]["matchingPrecedence"] = 10
    cfg = bootstrap([mine, tie, dangling])
    assert cfg.dangling == {"0-dangling"}
    assert where(cfg, user("alice"), req("GET", "/api/v1/namespaces/team/pods")) == ("a-tie", "global-default", "team")
    assert where(cfg, user("alice"), req("GET", "/api/v1/namespaces/other/pods"))[0] == "global-default"
    assert where(cfg, user("bob"), req("GET", "/api/v1/namespaces/team/pods"))[2] == "bob"


def test_rules():
    sa_any = {"kind": "ServiceAccount", "serviceAccount": {"namespace": "ns", "name": "*"}}
    assert subject_matches(sa_any, UserInfo("system:serviceaccount:ns:x"))
    assert not subject_matches(sa_any, UserInfo("system:serviceaccount:ns2:x"))
    assert subject_matches({"kind": "Group", "group": {"name": "g"}}, UserInfo("u", groups=("g",)))
    assert subject_matches({"kind": "User", "user": {"name": "*"}}, UserInfo("anyone"))
    rule = {"verbs": ["get", "update"], "apiGroups": ["apps"], "resources": ["deployments/status"],
            "namespaces": ["a"]}
    assert resource_rule_matches(rule, req("PUT", "/apis/apps/v1/namespaces/a/deployments/d/status"))
    assert not resource_rule_matches(rule, req("PUT", "/apis/apps/v1/namespaces/a/deployments/d"))
    assert not resource_rule_matches(rule, req("PUT", "/apis/apps/v1/namespaces/b/deployments/d/status"))
    cluster = {"verbs": ["*"], "apiGroups": [""], "resources": ["nodes"], "clusterScope": True}
    assert resource_rule_matches(cluster, req("DELETE", "/api/v1/nodes/n"))
    assert not resource_rule_matches({**cluster, "clusterScope": False, "namespaces": ["*"]},
                                     req("DELETE", "/api/v1/nodes/n"))
    health = {"verbs": ["get"], "nonResourceURLs": ["/healthz/*"]}
    assert non_resource_rule_matches(health, req("GET", "/healthz/etcd"))
    assert not non_resource_rule_matches(health, req("GET", "/healthz"))
    assert not non_resource_rule_matches(health, req("POST", "/healthz/etcd"))


def test_seats_are_shares_of_the_server_total():
    levels = levels_from(_with_uids([*MANDATORY_PRIORITY_LEVELS, *SUGGESTED_PRIORITY_LEVELS]), 150)
    # shares: catch-all 5, system 30, node-high 40, leader-election 10, workload-high 40, workload-low 100,
    # global-default 20: 245 in all
    assert {n: lv.seats for n, lv in levels.items() if not lv.exempt} == {
        "catch-all": 4, "system": 19, "node-high": 25, "leader-election": 7, "workload-high": 25,
        "workload-low": 62, "global-default": 13}
    assert levels["exempt"].exempt and levels["catch-all"].queues == 0
    gd = levels["global-default"]
    assert (gd.queues, gd.hand_size, gd.queue_length_limit) == (128, 6, 50)


def test_headers_name_the_schema_and_level_uids():
    c = bootstrap().classify(user("alice"), req("GET", "/api/v1/pods"))
    assert dict(c.schema.headers) == {b"x-kubernetes-pf-flowschema-uid": b"uid-global-default",
                                      b"x-kubernetes-pf-prioritylevel-uid": b"uid-global-default"}
