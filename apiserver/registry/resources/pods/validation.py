"""Pod rules beyond the PodSpec: what an update of a running pod may change
(upstream's ValidatePodUpdate)."""
from __future__ import annotations

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _mutable_view(spec: dict, old: dict) -> dict:
    """`spec` with the fields a pod update may change copied from `old`."""
    view = dict(spec)
    for key in ("containers", "initContainers"):
        new_list, old_list = spec.get(key) or [], old.get(key) or []
        if new_list and len(new_list) == len(old_list):
            view[key] = [dict(n, image=o.get("image")) if isinstance(n, dict) and isinstance(o, dict) else n
                         for n, o in zip(new_list, old_list)]
    view["activeDeadlineSeconds"] = old.get("activeDeadlineSeconds")
    old_tol = old.get("tolerations") or []
    new_tol = spec.get("tolerations") or []
    if all(t in new_tol for t in old_tol):
        view["tolerations"] = old.get("tolerations")
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps == 1 and isinstance(old.get("terminationGracePeriodSeconds"), int) and old["terminationGracePeriodSeconds"] < 0:
        view["terminationGracePeriodSeconds"] = old["terminationGracePeriodSeconds"]
    return _normal(view)


def _normal(spec: dict) -> dict:
    """Absent, null and empty lists mean the same to an update check."""
    return {k: v for k, v in spec.items() if v is not None and v != []}


def validate_pod_update(new: dict, old: dict) -> list[Cause]:
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(key) or []):
            if isinstance(c, dict) and not c.get("image"):
                causes.append(field.required(field.child(field.index(f"spec.{key}", i), "image"), ""))
    old_ads, new_ads = old_spec.get("activeDeadlineSeconds"), spec.get("activeDeadlineSeconds")
    if old_ads is not None and (new_ads is None or (isinstance(new_ads, int) and new_ads > old_ads)):
        causes.append(field.invalid("spec.activeDeadlineSeconds", new_ads,
                                    "must be less than or equal to previous value"))
    if _mutable_view(spec, old_spec) != _normal(old_spec):
        causes.append(field.forbidden("spec", POD_UPDATE_FORBIDDEN))
    return causes
