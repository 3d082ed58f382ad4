"""The API Priority and Fairness configuration put in place at start, as
kube-apiserver's configuration ensurer does: the mandatory objects always
(created when missing, their spec put back when changed), the suggested ones
created when missing and their spec put back only while they keep
`apf.kubernetes.io/autoupdate-spec: "true"` (an operator's edit with "false" stays)."""
from __future__ import annotations

import copy

from apiserver.registry.context import WriteContext
from apiserver.registry.resources.flowcontrol.config import (AUTOUPDATE, MANDATORY_FLOW_SCHEMAS,
                                                             MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS,
                                                             SUGGESTED_PRIORITY_LEVELS)

GROUP = "flowcontrol.apiserver.k8s.io"


async def ensure_flowcontrol_configuration(registries, create_if_missing) -> None:
    levels = registries.for_plural(GROUP, "prioritylevelconfigurations")
    schemas = registries.for_plural(GROUP, "flowschemas")
    if levels is None or schemas is None:
        return
    for store, objs, mandatory in ((levels, MANDATORY_PRIORITY_LEVELS, True), (schemas, MANDATORY_FLOW_SCHEMAS, True),
                                   (levels, SUGGESTED_PRIORITY_LEVELS, False),
                                   (schemas, SUGGESTED_FLOW_SCHEMAS, False)):
        for obj in objs:
            await _ensure(store, copy.deepcopy(obj), mandatory, create_if_missing)


async def _ensure(store, wanted: dict, mandatory: bool, create_if_missing) -> None:
    name = wanted["metadata"]["name"]
    current = await store.get_or_none("", name)
    if current is None:
        await create_if_missing(store, "", wanted)
        return
    annotations = (current.obj.get("metadata") or {}).get("annotations") or {}
    if not mandatory and annotations.get(AUTOUPDATE) != "true":
        return
    # compare after defaulting, as the stored spec is defaulted
    probe = copy.deepcopy(wanted)
    store.strategy.defaults(probe)
    if current.obj.get("spec") == probe["spec"] and annotations.get(AUTOUPDATE) == "true":
        return

    async def put_back(old: dict) -> dict:
        old["spec"] = probe["spec"]
        old["metadata"].setdefault("annotations", {})[AUTOUPDATE] = "true"
        return old
    await store.guaranteed_update("", name, put_back, WriteContext())
