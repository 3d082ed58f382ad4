"""What every node may do whatever its pods (upstream's NodeRules, the system:node
role). The Node authorizer applies them to `system:node:<name>` users in group
system:nodes; NodeRestriction then narrows writes to the node's own objects.
Reading Secrets, ConfigMaps, claims, volumes and service-account tokens is not
here: the authorizer grants those only for objects the node's pods refer to.
"""
from __future__ import annotations

_READ = ["get", "list", "watch"]


def _rule(verbs: list[str], group: str, resources: list[str]) -> dict:
    return {"verbs": verbs, "apiGroups": [group], "resources": resources}


NODE_RULES = [
    _rule(["create", "get", "list", "watch", "update", "patch", "delete"], "", ["nodes"]),
    _rule(["patch", "update"], "", ["nodes/status"]),
    _rule(["create", "patch", "update"], "", ["events"]),
    _rule(["create", "patch", "update"], "events.k8s.io", ["events"]),
    _rule([*_READ, "create", "delete"], "", ["pods"]),          # create/delete: mirror pods, NodeRestriction
    _rule(["patch", "update"], "", ["pods/status"]),
    _rule(["create"], "", ["pods/eviction"]),
    _rule(_READ, "", ["services"]),
    _rule(["get", "update", "patch"], "", ["persistentvolumeclaims/status"]),
    _rule(["create"], "authentication.k8s.io", ["tokenreviews"]),
    _rule(["create"], "authorization.k8s.io", ["subjectaccessreviews", "localsubjectaccessreviews"]),
    _rule(["create", "get", "list", "watch"], "certificates.k8s.io", ["certificatesigningrequests"]),
    _rule(["get", "create", "update", "patch", "delete"], "coordination.k8s.io", ["leases"]),
    _rule(["get", "create", "update", "patch", "delete"], "storage.k8s.io", ["csinodes"]),
    _rule(_READ, "storage.k8s.io", ["csidrivers"]),
    _rule(_READ, "node.k8s.io", ["runtimeclasses"]),
]

# Readable only through a pod of the node (machinery/podrefs.py): the system:node role
# itself lists them, as upstream's does, for clusters that authorize nodes by RBAC alone.
GRAPH_RULES = [
    _rule(["get", "list", "watch"], "", ["secrets", "configmaps"]),
    _rule(["get"], "", ["persistentvolumeclaims", "persistentvolumes"]),
    _rule(["create"], "", ["serviceaccounts/token"]),
    _rule(["get"], "storage.k8s.io", ["volumeattachments"]),
]
