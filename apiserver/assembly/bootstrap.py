"""What a fresh cluster has before anyone asks: the system namespaces and the
`kubernetes` Service (with its Endpoints and EndpointSlice) pointing at this
API server. Safe to run on every start: existing objects are left alone,
except the endpoints, which follow the server's address and port."""
from __future__ import annotations

import asyncio

from apiserver.machinery.errors import StatusError
from apiserver.registry.context import WriteContext
from apiserver.machinery import timeutil
from apiserver.registry.resources.apiservices import local_apiservice, local_available
from apiserver.registry.resources.priorityclasses import system_priority_classes
from apiserver.registry.resources.servicecidrs import DEFAULT_NAME, default_service_cidr, ready_status

from .flowcontrol_bootstrap import ensure_flowcontrol_configuration

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
RACE_WAIT_S = 10.0   # how long another server's create in flight is waited for


async def _create_if_missing(gs, namespace: str, obj: dict) -> None:
    name = obj["metadata"]["name"]
    deadline = asyncio.get_running_loop().time() + RACE_WAIT_S
    while True:
        # Look first: on restart a create would reach the Service IP allocator, which
        # refuses the (already held) kubernetes clusterIP before the store says 409.
        if await gs.get_or_none(namespace, name) is not None:
            return
        try:
            await gs.create(namespace, obj, WriteContext())
            return
        except StatusError as e:
            # Several API servers (or workers) bootstrapping at once on one store: another
            # one's create may win: a 409, or the allocator's "already allocated" for the
            # kubernetes clusterIP, which the winner holds a moment before its Service is
            # stored. Look again until it is there (or the winner failed and we may retry).
            if e.code == 409 or await gs.get_or_none(namespace, name) is not None:
                return
            if asyncio.get_running_loop().time() >= deadline:
                raise
        await asyncio.sleep(0.05)


async def _put(gs, namespace: str, obj: dict) -> None:
    """Create, or overwrite when the content differs (endpoints follow the server)."""
    name = obj["metadata"]["name"]
    current = await gs.get_or_none(namespace, name)
    if current is None:
        await _create_if_missing(gs, namespace, obj)
        return
    await gs.update(namespace, name, obj, WriteContext())


async def ensure_defaults(registries, *, kubernetes_service_ip: str, apiserver_ip: str,
                          apiserver_port: int, endpoints_reconciled: bool = False) -> None:
    """endpoints_reconciled: the endpoint reconciler (endpoint_reconciler.py) keeps the
    endpoints listing every live server, so only create them when missing: overwriting
    them with this server alone would drop the others until the next reconcile."""
    put_endpoints = _create_if_missing if endpoints_reconciled else _put
    namespaces = registries.for_plural("", "namespaces")
    for ns in SYSTEM_NAMESPACES:
        await _create_if_missing(namespaces, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    # the two built-in PriorityClasses (upstream's scheduling post-start hook makes them)
    priority_classes = registries.for_plural("scheduling.k8s.io", "priorityclasses")
    for pc in system_priority_classes() if priority_classes is not None else ():
        await _create_if_missing(priority_classes, "", pc)

    await ensure_local_apiservices(registries)
    await ensure_flowcontrol_configuration(registries, _create_if_missing)
    await ensure_default_service_cidr(registries)

    labels = {"component": "apiserver", "provider": "kubernetes"}
    await _create_if_missing(registries.for_plural("", "services"), "default", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
        "spec": {"type": "ClusterIP", "clusterIP": kubernetes_service_ip, "clusterIPs": [kubernetes_service_ip],
                 "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": apiserver_port}]},
    })
    await put_endpoints(registries.for_plural("", "endpoints"), "default", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": apiserver_ip}],
                     "ports": [{"name": "https", "port": apiserver_port, "protocol": "TCP"}]}],
    })
    await put_endpoints(registries.for_plural("discovery.k8s.io", "endpointslices"), "default", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     # only the service-name label, as upstream's apiserver writes it: a
                     # managed-by endpointslice-controller label would let that controller
                     # delete the slice of this selector-less Service
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv6" if ":" in apiserver_ip else "IPv4",
        "endpoints": [{"addresses": [apiserver_ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": apiserver_port, "protocol": "TCP"}],
    })


async def ensure_local_apiservices(registries) -> None:
    """A local APIService per group-version this server answers, synced on start as
    upstream's autoregister does for its "onstart" ones: created when missing, its spec
    put back when changed, Available=True (Local) set in its status."""
    apiservices = registries.for_plural("apiregistration.k8s.io", "apiservices")
    if apiservices is None:
        return
    cat = registries.catalogue
    wanted = [(gv.group, gv.version) for gv in cat.group_versions if cat.is_builtin(gv)]
    for group, version in wanted + [("metrics.k8s.io", "v1beta1")]:
        obj = local_apiservice(group, version)
        if obj is None:
            continue
        name = obj["metadata"]["name"]
        current = await apiservices.get_or_none("", name)
        if current is None:
            await _create_if_missing(apiservices, "", obj)
        elif current.obj.get("spec") != obj["spec"]:
            def put_spec(old: dict, spec=obj["spec"], labels=obj["metadata"]["labels"]) -> dict:
                old["spec"] = spec
                old["metadata"].setdefault("labels", {}).update(labels)
                return old
            await apiservices.guaranteed_update("", name, _sync(put_spec), WriteContext())
        stored = await apiservices.get("", name)
        if not _locally_available(stored.obj):
            await apiservices.guaranteed_update("", name, _sync(_set_local_status), WriteContext(),
                                                subresource="status")


async def ensure_default_service_cidr(registries) -> None:
    """The `kubernetes` ServiceCIDR, from --service-cluster-ip-range, Ready once there, as
    upstream's default-servicecidr controller keeps it. An existing one is left as it is
    (upstream only reports a mismatch with the flag)."""
    cidrs = registries.for_plural("networking.k8s.io", "servicecidrs")
    if cidrs is None:
        return
    await _create_if_missing(cidrs, "", default_service_cidr(registries.settings.service_cluster_ip_range))
    current = await cidrs.get("", DEFAULT_NAME)
    if not any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (current.obj.get("status") or {}).get("conditions") or []):
        def set_ready(old: dict) -> dict:
            old["status"] = ready_status(timeutil.now_time())
            return old
        await cidrs.guaranteed_update("", DEFAULT_NAME, _sync(set_ready), WriteContext(), subresource="status")


def _locally_available(obj: dict) -> bool:
    return any(c.get("type") == "Available" and c.get("status") == "True" and c.get("reason") == "Local"
               for c in (obj.get("status") or {}).get("conditions") or [])


def _sync(fn):
    async def transform(old: dict) -> dict:
        return fn(old)
    return transform


def _set_local_status(old: dict) -> dict:
    old["status"] = local_available(timeutil.now_time())
    return old
