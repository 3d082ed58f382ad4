"""LoadBalancer Services on one machine, as k3s's ServiceLB does it: the Service's
status names this node's address, and the proxy serves the Service's port there
(see rules: LoadBalancer ingress addresses are entries of the service-ips map)."""
from __future__ import annotations

import asyncio
import logging

from kubeclient import ApiClient, ApiError
from kubeclient.informer import Informer
from kubeclient.resources import SERVICES

log = logging.getLogger(__name__)


def wanted_ingress(service: dict, node_ip: str) -> list[dict] | None:
    """The status.loadBalancer.ingress this node gives the Service, or None to leave it alone:
    only an empty ingress is filled, so another writer of the status is never fought."""
    spec = service.get("spec") or {}
    if spec.get("type") != "LoadBalancer" or spec.get("loadBalancerClass"):
        return None
    have = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return None if have else [{"ip": node_ip, "ipMode": "VIP"}]


async def run_service_lb(client: ApiClient, services: Informer, node_ip: str) -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()

    def enqueue(*objs) -> None:
        obj = objs[-1]
        if wanted_ingress(obj, node_ip) is not None:
            queue.put_nowait(f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")

    services.add_handler(enqueue, enqueue, None)
    while True:
        key = await queue.get()
        svc = services.get(key)
        ingress = wanted_ingress(svc, node_ip) if svc else None
        if ingress is None:
            continue
        ns, name = key.split("/", 1)
        try:
            await client.patch(SERVICES, name, {"status": {"loadBalancer": {"ingress": ingress}}}, ns,
                               subresource="status")
            log.info("service %s: load balancer ingress %s", key, node_ip)
        except ApiError as e:
            if not e.not_found:
                log.warning("service %s: cannot set load balancer status: %s", key, e)
