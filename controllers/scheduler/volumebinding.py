"""Volume binding for the scheduler (upstream's VolumeBinding and the PV node
affinity filter): a pod whose claim is missing or being deleted is refused
before any node is looked at; an unbound claim of an Immediate class makes
every node fail; a bound claim's volume must admit the node; an unbound
WaitForFirstConsumer claim needs a free volume that admits the node, or a
provisioner. Once a node is chosen, those claims are annotated with it
(volume.kubernetes.io/selected-node) so the binder or provisioner acts there."""
from __future__ import annotations

from ..volumes.matching import claim_class, claims_of_pod, find_match, volume_allows_node

UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
AFFINITY_CONFLICT = "node(s) had volume node affinity conflict"
NO_VOLUME = "node(s) didn't find available persistent volumes to bind"


class VolumeCheck:
    """Prepared once per pod; `prefilter_error` refuses it outright, `check(info)` per node."""

    def __init__(self, pod: dict, claims, volumes, classes):
        ns = pod["metadata"].get("namespace", "")
        self.volumes, self.classes = volumes, classes
        self.prefilter_error: str | None = None
        self.bound: list[dict] = []      # volumes of bound claims
        self.delayed: list[dict] = []    # unbound WaitForFirstConsumer claims
        self.immediate_unbound = False
        names = claims_of_pod(pod)
        self.active = bool(names)
        for name in names:
            claim = claims.get(f"{ns}/{name}")
            if claim is None:
                self.prefilter_error = f'persistentvolumeclaim "{name}" not found'
                return
            if claim["metadata"].get("deletionTimestamp"):
                self.prefilter_error = f'persistentvolumeclaim "{name}" is being deleted'
                return
            volume_name = (claim.get("spec") or {}).get("volumeName")
            if volume_name:
                pv = volumes.get(volume_name)
                if pv is not None:
                    self.bound.append(pv)
                continue
            cls = classes.get(claim_class(claim)) if claim_class(claim) else None
            if cls is not None and cls.get("volumeBindingMode") == "WaitForFirstConsumer":
                self.delayed.append(claim)
            else:
                self.immediate_unbound = True

    def check(self, info) -> tuple[list[str], bool] | None:
        node = info.node
        if self.immediate_unbound:
            return [UNBOUND_IMMEDIATE], False
        if any(not volume_allows_node(pv, node) for pv in self.bound):
            return [AFFINITY_CONFLICT], False
        for claim in self.delayed:
            cls = self.classes.get(claim_class(claim)) or {}
            if cls.get("provisioner") and cls.get("provisioner") != "kubernetes.io/no-provisioner":
                continue
            if find_match(claim, self.volumes.list(), lambda v: volume_allows_node(v, node)) is None:
                return [NO_VOLUME], False
        return None
