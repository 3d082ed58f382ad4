"""The control plane's own roles: what each component `pocketkube up` starts may do,
and no more (upstream's bootstrap roles for them, written here from what each
component calls).

  system:node-proxier        the proxy (user system:kube-proxy): reads Services,
                             EndpointSlices and Nodes; writes events and, as the
                             built-in ServiceLB, Services' status
  system:kube-dns            the DNS server (user system:kube-dns): reads Services,
                             EndpointSlices and Pods
  pocketkube:kube-dns-publisher   in kube-system only: the DNS server keeps its own
                             kube-dns Service and EndpointSlice
  system:kube-scheduler, system:volume-scheduler   the scheduler's, for a scheduler
                             run on its own (user system:kube-scheduler)
  pocketkube:controller-manager   a controller manager run WITHOUT
                             --use-service-account-credentials, scheduler included, whose
                             every controller writes as its own identity: bound to the group
                             pocketkube:shared-controller-credentials (`pocketkube up
                             --use-service-account-credentials=false` puts its credentials in
                             it). Every verb on every object, but none of impersonate,
                             escalate, bind or approve, so it cannot grant itself or anyone
                             more than it holds (the escalation guard checks its RBAC writes).
                             With the flag (the default of `up`), the user
                             system:kube-controller-manager has upstream's narrow role and each
                             controller its own (rbac_controller_roles.py)
  system:node                what nodes may do (the Node authorizer grants it to each
                             node for its own objects; not bound, as upstream)
"""
from __future__ import annotations

from apiserver.auth.node_rules import GRAPH_RULES, NODE_RULES

GROUP = "rbac.authorization.k8s.io"
_READ = ["get", "list", "watch"]
_EVENTS = [{"verbs": ["create", "patch", "update"], "apiGroups": [""], "resources": ["events"]},
           {"verbs": ["create", "patch", "update"], "apiGroups": ["events.k8s.io"], "resources": ["events"]}]


def _rule(verbs: list[str], groups: list[str], resources: list[str]) -> dict:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


ROLES = {
    "system:node-proxier": [
        _rule(_READ, [""], ["services", "endpoints", "nodes"]),
        _rule(_READ, ["discovery.k8s.io"], ["endpointslices"]),
        _rule(["patch", "update"], [""], ["services/status"]),
        *_EVENTS],
    "system:kube-dns": [
        _rule(_READ, [""], ["services", "endpoints", "pods"]),
        _rule(_READ, ["discovery.k8s.io"], ["endpointslices"])],
    "pocketkube:kube-dns-publisher": [
        _rule(["get", "create", "update", "patch"], [""], ["services"]),
        _rule(["get", "create", "update", "patch"], ["discovery.k8s.io"], ["endpointslices"])],
    "system:kube-scheduler": [
        *_EVENTS,
        _rule(["create"], ["coordination.k8s.io"], ["leases"]),
        _rule(["get", "update"], ["coordination.k8s.io"], ["leases"]),
        _rule(_READ, [""], ["nodes", "namespaces", "services", "replicationcontrollers",
                            "persistentvolumeclaims", "persistentvolumes"]),
        _rule([*_READ, "delete"], [""], ["pods"]),
        _rule(["create"], [""], ["bindings", "pods/binding"]),
        _rule(["patch", "update"], [""], ["pods/status"]),
        _rule(_READ, ["apps"], ["replicasets", "statefulsets"]),
        _rule(_READ, ["policy"], ["poddisruptionbudgets"]),
        _rule(_READ, ["storage.k8s.io"], ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"]),
        _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])],
    "system:volume-scheduler": [
        _rule([*_READ, "patch", "update"], [""], ["persistentvolumes"]),
        _rule(_READ, ["storage.k8s.io"], ["storageclasses"]),
        _rule([*_READ, "patch", "update"], [""], ["persistentvolumeclaims"])],
    "pocketkube:controller-manager": [
        _rule([*_READ, "create", "update", "patch", "delete", "deletecollection"], ["*"], ["*"]),
        _rule(["approve", "sign"], ["certificates.k8s.io"], ["signers"])],
    "system:node": [*NODE_RULES, *GRAPH_RULES],
}

SHARED_CONTROLLER_CREDENTIALS = "pocketkube:shared-controller-credentials"
# (binding name, role, subject kind, subject name)
CLUSTER_BINDINGS = [
    ("system:node-proxier", "system:node-proxier", "User", "system:kube-proxy"),
    ("system:kube-dns", "system:kube-dns", "User", "system:kube-dns"),
    ("system:kube-scheduler", "system:kube-scheduler", "User", "system:kube-scheduler"),
    ("system:volume-scheduler", "system:volume-scheduler", "User", "system:kube-scheduler"),
    (SHARED_CONTROLLER_CREDENTIALS, "pocketkube:controller-manager", "Group", SHARED_CONTROLLER_CREDENTIALS),
]
# (namespace, binding name, cluster role, subject kind, subject name)
NAMESPACED_BINDINGS = [
    ("kube-system", "pocketkube:kube-dns-publisher", "pocketkube:kube-dns-publisher", "User", "system:kube-dns"),
]
# What an older pocketkube bound and this one no longer wants (removed at start).
RETIRED_CLUSTER_BINDINGS = ["pocketkube:components",
                            # bound the user system:kube-controller-manager to every verb
                            "pocketkube:controller-manager"]
