"""What pods/eviction asks of PodDisruptionBudgets before it deletes a pod.

An eviction of a running pod that a budget selects needs one allowed disruption:
it is taken from the budget's status (disruptionsAllowed - 1, the pod noted in
disruptedPods) in the same read-modify-write that checks it, so two evictions
racing for the last one cannot both win. Without one the answer is 429, worded
as upstream, and kubectl drain retries. The disruption controller recomputes
the budget from the pods afterwards.
"""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.machinery.labels import SelectorError, from_label_selector_object
from apiserver.registry.context import WriteContext
from apiserver.registry.options import ListOptions

_VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _selects(pdb: dict, pod: dict) -> bool:
    try:
        sel = from_label_selector_object((pdb.get("spec") or {}).get("selector"))
    except SelectorError:
        return False
    return sel.matches((pod.get("metadata") or {}).get("labels"))


def _refusal(detail: str) -> errors.StatusError:
    err = errors.too_many_requests(_VIOLATION, retry_after=0)
    err.causes = [errors.Cause("DisruptionBudget", detail)]
    return err


async def take_disruption(registries, namespace: str, pod: dict, ctx: WriteContext) -> None:
    """Raise 429/500 when the pod may not be evicted now; else record the disruption."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed", "Pending") or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return  # nothing to protect: upstream evicts these without asking any budget
    store = registries.for_plural("policy", "poddisruptionbudgets") if registries else None
    if store is None:
        return
    page = await store.list(namespace, ListOptions())
    budgets = [so.obj for so in page.items if _selects(so.obj, pod)]
    if not budgets:
        return
    if len(budgets) > 1:
        raise errors.internal_error("This pod has more than one PodDisruptionBudget, which the eviction subresource "
                                    "does not support.")
    name = budgets[0]["metadata"]["name"]
    pod_name = pod["metadata"]["name"]
    ready = _ready(pod)

    async def transform(pdb: dict) -> dict:
        st = pdb.get("status") or {}
        if int(st.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 1):
            raise _refusal(f"The disruption budget {name} is still being processed by the server.")
        if not ready and int(st.get("currentHealthy") or 0) >= int(st.get("desiredHealthy") or 0):
            return pdb  # an unhealthy pod while the budget is met: evicting it costs nothing
        if int(st.get("disruptionsAllowed") or 0) <= 0:
            raise _refusal(f"The disruption budget {name} needs {int(st.get('desiredHealthy') or 0)} healthy pods "
                           f"and has {int(st.get('currentHealthy') or 0)} currently")
        from apiserver.registry.objects import now_rfc3339
        st["disruptionsAllowed"] = int(st["disruptionsAllowed"]) - 1
        st.setdefault("disruptedPods", {})[pod_name] = now_rfc3339()
        pdb["status"] = st
        return pdb

    await store.guaranteed_update(namespace, name, transform, ctx, subresource="status", admit=False)
