"""Which volume a claim binds to, and who uses a claim: pure functions over
cached objects (upstream's findMatchingVolume and the protection controller's
podUsesPVC)."""
from __future__ import annotations

from fractions import Fraction

from kubeclient.quantity import parse_quantity

from ..selectors import matches_label_selector

SELECTED_NODE = "volume.kubernetes.io/selected-node"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def quantity(value) -> Fraction:
    try:
        return Fraction(parse_quantity(value)) if value is not None else Fraction(0)
    except (ValueError, TypeError):
        return Fraction(0)


def claim_class(claim: dict) -> str:
    ann = claim["metadata"].get("annotations") or {}
    if BETA_CLASS in ann:
        return ann[BETA_CLASS]
    return (claim.get("spec") or {}).get("storageClassName") or ""


def volume_class(pv: dict) -> str:
    ann = pv["metadata"].get("annotations") or {}
    if BETA_CLASS in ann:
        return ann[BETA_CLASS]
    return (pv.get("spec") or {}).get("storageClassName") or ""


def requested(claim: dict) -> Fraction:
    return quantity((((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage"))


def capacity(pv: dict) -> Fraction:
    return quantity(((pv.get("spec") or {}).get("capacity") or {}).get("storage"))


def claim_ref_is(pv: dict, claim: dict) -> bool:
    """The volume's claimRef names this claim (and this incarnation of it, when it has a uid)."""
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return False
    m = claim["metadata"]
    if ref.get("name") != m["name"] or ref.get("namespace") != m.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == m.get("uid")


def fits(pv: dict, claim: dict) -> bool:
    """The volume can serve the claim: class, access modes, size, volume mode, selector."""
    spec, cspec = pv.get("spec") or {}, claim.get("spec") or {}
    if volume_class(pv) != claim_class(claim):
        return False
    if not set(cspec.get("accessModes") or []) <= set(spec.get("accessModes") or []):
        return False
    if capacity(pv) < requested(claim):
        return False
    if (spec.get("volumeMode") or "Filesystem") != (cspec.get("volumeMode") or "Filesystem"):
        return False
    selector = cspec.get("selector")
    if selector is not None and not matches_label_selector(selector, pv["metadata"].get("labels") or {}):
        return False
    return True


def find_match(claim: dict, volumes: list[dict], allowed=lambda pv: True) -> dict | None:
    """A volume pre-bound to this claim, else the smallest free one that fits;
    `allowed` filters the free ones further (node affinity for a claim waiting for
    its pod; a volume made or named for this claim binds wherever it is, as upstream's
    binder does: the scheduler is the one that checks its node)."""
    free = []
    for pv in volumes:
        if pv["metadata"].get("deletionTimestamp"):
            continue
        if claim_ref_is(pv, claim):
            if fits(pv, claim):
                return pv
            continue
        if not allowed(pv):
            continue
        if (pv.get("spec") or {}).get("claimRef") or (pv.get("status") or {}).get("phase") != "Available":
            continue
        if fits(pv, claim):
            free.append(pv)
    free.sort(key=lambda pv: (capacity(pv), pv["metadata"]["name"]))
    return free[0] if free else None


def claims_of_pod(pod: dict) -> list[str]:
    """Names of the claims a pod mounts (generic ephemeral volumes: <pod>-<volume>)."""
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if (v.get("persistentVolumeClaim") or {}).get("claimName"):
            out.append(v["persistentVolumeClaim"]["claimName"])
        elif v.get("ephemeral") is not None:
            out.append(f"{pod['metadata']['name']}-{v.get('name', '')}")
    return out


def claim_in_use(namespace: str, name: str, pods: list[dict]) -> bool:
    """A pod that has not finished uses the claim (upstream: phase not Succeeded/Failed)."""
    for pod in pods:
        if pod["metadata"].get("namespace") != namespace:
            continue
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        if name in claims_of_pod(pod):
            return True
    return False


def volume_allows_node(pv: dict, node: dict | None) -> bool:
    """The volume's required node affinity admits the node (no affinity: any node)."""
    from ..scheduler.predicates import node_selector_term_matches
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    if not required:
        return True
    if node is None:
        return False
    return any(node_selector_term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])
