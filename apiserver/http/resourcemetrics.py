"""metrics.k8s.io/v1beta1, built in (as k3s ships metrics-server): NodeMetrics and
PodMetrics read from each node agent's /stats/summary over the node-proxy path's
client, so `kubectl top nodes` and `kubectl top pods` work.

The group is put in the catalogue for discovery (kubectl looks for it there);
its requests are answered by the routes here, placed before the API routes.
Usage is a rate the node agent measured over its own window (usageNanoCores).
"""
from __future__ import annotations

import asyncio
import time

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response

from starlette.routing import Route

from openapi.catalogue import Resource

from apiserver.http.nodeproxy import kubelet_address
from apiserver.http.responses import raw_response, status_response
from apiserver.machinery import errors
from apiserver.machinery.labels import parse_label_selector
from apiserver.registry.options import ListOptions

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
BASE = f"/apis/{GROUP}/{VERSION}"
RESOURCES = (
    Resource(group=GROUP, version=VERSION, plural="nodes", singular="", kind="NodeMetrics", namespaced=False,
             verbs=("get", "list"), schema=""),
    Resource(group=GROUP, version=VERSION, plural="pods", singular="", kind="PodMetrics", namespaced=True,
             verbs=("get", "list"), schema=""),
)


def cpu_quantity(nano_cores: int) -> str:
    return f"{int(nano_cores)}n"


def memory_quantity(num_bytes: int) -> str:
    return f"{int(num_bytes) // 1024}Ki"


def usage(stats: dict) -> dict:
    return {"cpu": cpu_quantity((stats.get("cpu") or {}).get("usageNanoCores") or 0),
            "memory": memory_quantity((stats.get("memory") or {}).get("workingSetBytes") or 0)}


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ResourceMetrics:
    """`np`: the node proxy (its kubelet client, its authorization, its object reads)."""

    def __init__(self, np):
        self.np = np

    async def _summaries(self, node_names: list[str]) -> dict[str, dict]:
        async def one(name: str):
            try:
                host, port = kubelet_address(await self.np._get("nodes", "", name))
                r = await self.np.http.get(f"https://{host}:{port}/stats/summary", timeout=15)
                return name, (r.json() if r.status_code == 200 else None)
            except (httpx.HTTPError, errors.StatusError, ValueError):
                return name, None   # an unreachable node has no metrics, as with metrics-server
        return {n: s for n, s in await asyncio.gather(*(one(n) for n in node_names)) if s is not None}

    async def _node_names(self) -> list[str]:
        page = await self.np.registries.lookup("", "v1", "nodes").list("", ListOptions())
        return [item.obj["metadata"]["name"] for item in page.items]

    async def nodes(self, request: Request) -> Response:
        name = request.path_params.get("name", "")
        try:
            await self.np._authorize(request.scope, "GET", request.url.path, request.query_params,
                                     "get" if name else "list")
            names = [name] if name else await self._node_names()
            summaries = await self._summaries(names)
            items = [{"metadata": {"name": n, "creationTimestamp": _stamp()}, "timestamp": _stamp(),
                      "window": "1s", "usage": usage(s.get("node") or {})} for n, s in summaries.items()]
            if name:
                if not items:
                    raise errors.StatusError(404, "NotFound", f'nodemetrics.metrics.k8s.io "{name}" not found')
                return raw_response(orjson.dumps({"kind": "NodeMetrics", "apiVersion": API_VERSION, **items[0]}))
            return raw_response(orjson.dumps({"kind": "NodeMetricsList", "apiVersion": API_VERSION,
                                              "metadata": {}, "items": items}))
        except errors.StatusError as e:
            return status_response(e)

    async def pods(self, request: Request) -> Response:
        namespace = request.path_params.get("namespace", "")
        name = request.path_params.get("name", "")
        try:
            await self.np._authorize(request.scope, "GET", request.url.path, request.query_params,
                                     "get" if name else "list")
            selector = parse_label_selector(request.query_params.get("labelSelector") or "")
            pods = await self.np.registries.lookup("", "v1", "pods").list(namespace, ListOptions())
            wanted = {(p.obj["metadata"]["namespace"], p.obj["metadata"]["name"]): p.obj for p in pods.items
                      if (not name or p.obj["metadata"]["name"] == name)
                      and selector.matches(p.obj["metadata"].get("labels") or {})
                      and (p.obj.get("spec") or {}).get("nodeName")}
            nodes = sorted({p["spec"]["nodeName"] for p in wanted.values()})
            items = []
            for summary in (await self._summaries(nodes)).values():
                for ps in summary.get("pods") or []:
                    ref = ps.get("podRef") or {}
                    pod = wanted.get((ref.get("namespace"), ref.get("name")))
                    if pod is None:
                        continue
                    items.append({"metadata": {"name": ref["name"], "namespace": ref["namespace"],
                                               "labels": pod["metadata"].get("labels") or {},
                                               "creationTimestamp": _stamp()},
                                  "timestamp": _stamp(), "window": "1s",
                                  "containers": [{"name": c["name"], "usage": usage(c)}
                                                 for c in ps.get("containers") or []]})
            if name:
                if not items:
                    raise errors.StatusError(404, "NotFound", f'podmetrics.metrics.k8s.io "{name}" not found')
                return raw_response(orjson.dumps({"kind": "PodMetrics", "apiVersion": API_VERSION, **items[0]}))
            return raw_response(orjson.dumps({"kind": "PodMetricsList", "apiVersion": API_VERSION,
                                              "metadata": {}, "items": items}))
        except errors.StatusError as e:
            return status_response(e)


def resource_metrics_routes(np) -> list:
    rm = ResourceMetrics(np)
    return [
        Route(BASE + "/nodes", rm.nodes, methods=["GET"]),
        Route(BASE + "/nodes/{name}", rm.nodes, methods=["GET"]),
        Route(BASE + "/pods", rm.pods, methods=["GET"]),
        Route(BASE + "/namespaces/{namespace}/pods", rm.pods, methods=["GET"]),
        Route(BASE + "/namespaces/{namespace}/pods/{name}", rm.pods, methods=["GET"]),
    ]
