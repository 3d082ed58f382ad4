"""APIServices for the group-versions custom resources add, kept as upstream's
crdRegistrationController keeps them: one local APIService per group-version a
CRD serves (label automanaged "true", group priority 1000, version priority 100),
Available (Local); deleted once no CRD serves that group-version any more."""
from __future__ import annotations

import logging

from apiserver.machinery import errors, timeutil
from apiserver.registry.context import WriteContext
from apiserver.registry.options import DeleteOptions, ListOptions
from apiserver.registry.resources.apiservices import AUTOMANAGED_LABEL, PRIORITIES, local_available

log = logging.getLogger("apiserver.crd")
CRD_PRIORITIES = (1000, 100)


def crd_apiservice(group: str, version: str) -> dict:
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": f"{version}.{group}", "labels": {AUTOMANAGED_LABEL: "true"}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": CRD_PRIORITIES[0],
                     "versionPriority": CRD_PRIORITIES[1]}}


async def sync_crd_apiservices(registries, catalogue) -> None:
    store = registries.for_plural("apiregistration.k8s.io", "apiservices")
    if store is None:
        return
    wanted = {(gv.group, gv.version) for gv in catalogue.group_versions
              if not catalogue.is_builtin(gv) and (gv.group, gv.version) not in PRIORITIES}
    page = await store.list("", ListOptions(label_selector=f"{AUTOMANAGED_LABEL}=true"))
    have = {((o.obj.get("spec") or {}).get("group"), (o.obj.get("spec") or {}).get("version")):
            o.obj["metadata"]["name"] for o in page.items}
    for group, version in sorted(wanted - set(have)):
        obj = crd_apiservice(group, version)
        try:
            await store.create("", obj, WriteContext())
        except errors.StatusError as e:
            if e.code != 409:  # another API server of the cluster made it first
                raise
        await store.guaranteed_update("", obj["metadata"]["name"], _available, WriteContext(), subresource="status")
    for gv in set(have) - wanted:
        try:
            await store.delete("", have[gv], DeleteOptions(), WriteContext())
        except errors.StatusError as e:
            if e.code != 404:
                raise


async def _available(old: dict) -> dict:
    if not any(c.get("reason") == "Local" for c in (old.get("status") or {}).get("conditions") or []):
        old["status"] = local_available(timeutil.now_time())
    return old
