"""ReplicaSets: the replication controller's logic (replication.py) with a
metav1.LabelSelector and the apps/v1 kind; Deployments manage their pods through them."""
from __future__ import annotations

from kubeclient.resources import REPLICASETS

from .replication import ReplicationManager
from .selectors import matches_label_selector


class ReplicaSetController(ReplicationManager):
    name = "replicaset"
    resource = REPLICASETS
    kind = "ReplicaSet"
    api_version = "apps/v1"
    component = "replicaset-controller"

    def selects(self, owner: dict, labels: dict | None) -> bool:
        selector = (owner.get("spec") or {}).get("selector")
        # an empty LabelSelector would select every pod: a ReplicaSet needs a real one
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            return False
        return matches_label_selector(selector, labels)
