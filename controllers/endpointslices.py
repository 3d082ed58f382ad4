"""EndpointSlices (discovery.k8s.io/v1) follow the pods a Service selects.

Endpoints are grouped by the ports they serve and cut into slices of at most
100; existing slices of the Service are rewritten in place, extra ones deleted,
missing ones created with generateName and the Service as controller owner.
"""
from __future__ import annotations

from kubeclient import ApiError, object_key, split_key
from kubeclient.resources import ENDPOINTSLICES

from .endpoints import ServiceIndex
from .servicepods import endpoint_hostname, pod_ip, pod_ports, pod_ready, selected_pods, target_ref

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS = 100


def desired_slices(service: dict, pods: list[dict]) -> list[tuple[list[dict], list[dict]]]:
    """[(ports, endpoints)] the Service should have, in a stable order (pure)."""
    publish_all = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple, list[dict]] = {}
    for pod in selected_pods(service, pods):
        ports = pod_ports(service, pod)
        if (service.get("spec") or {}).get("ports") and not ports:
            continue
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = pod_ready(pod)
        ep = {"addresses": [pod_ip(pod)],
              "conditions": {"ready": (ready or publish_all) and not terminating, "serving": ready,
                             "terminating": terminating},
              "targetRef": target_ref(pod)}
        if endpoint_hostname(service, pod):
            ep["hostname"] = endpoint_hostname(service, pod)
        if (pod.get("spec") or {}).get("nodeName"):
            ep["nodeName"] = pod["spec"]["nodeName"]
        groups.setdefault(ports, []).append(ep)
    out = []
    for ports, eps in sorted(groups.items()):
        eps.sort(key=lambda e: e["addresses"][0])
        port_list = [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]
        for i in range(0, len(eps), MAX_ENDPOINTS):
            out.append((port_list, eps[i:i + MAX_ENDPOINTS]))
    return out


class EndpointSliceController(ServiceIndex):
    name = "endpointslice"
    workers = 4

    def setup(self) -> None:
        super().setup()
        self.slices = self.ctx.informers.informer(ENDPOINTSLICES)
        self.slices.add_handler(self._slice_changed, lambda old, new: self._slice_changed(new), self._slice_changed)

    def _slice_changed(self, sl: dict) -> None:
        labels = sl["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(SERVICE_NAME_LABEL):
            self.queue.add(f"{sl['metadata']['namespace']}/{labels[SERVICE_NAME_LABEL]}")

    def _owned(self, ns: str, name: str) -> list[dict]:
        return sorted((s for s in self.slices.list(ns)
                       if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
                       and (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY),
                      key=lambda s: s["metadata"]["name"])

    async def sync(self, key: str) -> None:
        ns, name = split_key(key)
        svc = self.services.get(key)
        existing = self._owned(ns, name)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            for sl in existing:  # the garbage collector would too; do not leave stale addresses meanwhile
                await self._delete(sl)
            return
        want = desired_slices(svc, self.pods.list(ns))
        if not want:
            want = [([], [])]  # upstream keeps one empty slice per Service
        labels = {SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
        for k, v in (svc["metadata"].get("labels") or {}).items():
            labels.setdefault(k, v)
        for i, (ports, endpoints) in enumerate(want):
            if i < len(existing):
                cur = existing[i]
                if cur.get("ports") == ports and cur.get("endpoints") == endpoints and \
                        (cur["metadata"].get("labels") or {}) == labels:
                    continue
                body = dict(cur, ports=ports, endpoints=endpoints, addressType="IPv4")
                body["metadata"] = dict(cur["metadata"], labels=labels)
                self._assume(await self.client.update(ENDPOINTSLICES, body, ns))
            else:
                owner = {"apiVersion": "v1", "kind": "Service", "name": name, "uid": svc["metadata"]["uid"],
                         "controller": True, "blockOwnerDeletion": True}
                body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                        "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                                     "ownerReferences": [owner]},
                        "ports": ports, "endpoints": endpoints}
                self._assume(await self.client.create(ENDPOINTSLICES, body, ns))
        for sl in existing[len(want):]:
            await self._delete(sl)

    def _assume(self, written: dict) -> None:
        # our own write goes into the cache at once, so a sync before the watch
        # delivers it neither creates a twin nor updates a stale copy
        self.slices.assume(written)

    async def _delete(self, sl: dict) -> None:
        try:
            await self.client.delete(ENDPOINTSLICES, sl["metadata"]["name"], sl["metadata"]["namespace"])
        except ApiError as e:
            if not e.not_found:
                raise
        self.slices.forget(object_key(sl))
