"""The `kube-dns` Service in kube-system, fronting this DNS server through the proxy
like any Service: a selectorless Service (ports dns 53/UDP, dns-tcp 53/TCP) and an
EndpointSlice we manage that points at the address and port the server listens on."""
from __future__ import annotations

import logging

from kubeclient import ApiClient, ApiError
from kubeclient.resources import ENDPOINTSLICES, SERVICES

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
NAME = "kube-dns"
MANAGED_BY = "pocketkube-dns"


def service_body(cluster_ip: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE,
                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"clusterIP": cluster_ip, "type": "ClusterIP",
                     "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                               {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}}


def slice_body(node: str, address: str, port: int) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{NAME}-{node}", "namespace": NAMESPACE,
                         "labels": {"kubernetes.io/service-name": NAME,
                                    "endpointslice.kubernetes.io/managed-by": MANAGED_BY}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [address], "nodeName": node,
                           "conditions": {"ready": True, "serving": True, "terminating": False}}],
            "ports": [{"name": "dns", "port": port, "protocol": "UDP"},
                      {"name": "dns-tcp", "port": port, "protocol": "TCP"}]}


async def _put(client: ApiClient, res, body: dict) -> None:
    name, ns = body["metadata"]["name"], body["metadata"]["namespace"]
    try:
        current = await client.get(res, name, ns)
    except ApiError as e:
        if not e.not_found:
            raise
        await client.create(res, body, ns)
        return
    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    if res == SERVICES:
        if (current.get("spec") or {}).get("clusterIP") != body["spec"]["clusterIP"]:
            log.warning("service %s/%s has clusterIP %s, not %s; leaving it", ns, name,
                        current["spec"].get("clusterIP"), body["spec"]["clusterIP"])
            return
        body["spec"] = {**current["spec"], "ports": body["spec"]["ports"]}
    await client.update(res, body, ns)


async def publish(client: ApiClient, *, cluster_ip: str, node: str, address: str, port: int) -> None:
    """Create or refresh the Service and this node's EndpointSlice."""
    await _put(client, SERVICES, service_body(cluster_ip))
    await _put(client, ENDPOINTSLICES, slice_body(node, address, port))
    log.info("service %s/%s (%s) -> %s:%d", NAMESPACE, NAME, cluster_ip, address, port)
