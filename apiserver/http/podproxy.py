"""pods/proxy and services/proxy: the API server relays an HTTP request to a pod's
IP (`/api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}`), or to a
ready endpoint of a Service, picked from its EndpointSlices
(`.../services/{[scheme:]name[:port]}/proxy/{path}`), as upstream's
ResourceLocation of both does. Pod IPs are on this machine's bridge; the server
talks to them directly, not through the node agent.

Mount with `create_app(extra_routes=podproxy_routes(nodeproxy))`: the NodeProxy
lends its authorization and its store reads.
"""
from __future__ import annotations

import random
import ssl

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apiserver.http.proxyrewrite import is_html, rewrite_html, rewrite_location
from apiserver.http.responses import status_response
from apiserver.machinery import errors
from apiserver.registry.options import ListOptions

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Request headers that describe the request itself; credentials meant for the
# API server (Authorization, cookies, impersonation) never go to the pod.
_FORWARDED = ("accept", "content-type", "accept-encoding", "user-agent")
# Response headers that are about the hop, not the content (the server frames its own answer).
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "server", "date"}


def split_scheme_name_port(ref: str) -> tuple[str, str, str]:
    """`[scheme:]name[:port]` -> (scheme, name, port), as upstream's SplitSchemeNamePort;
    BadRequest for anything else."""
    parts = ref.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, (name, port) = "", parts
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        scheme, name, port = "", "", ""
    if not name or scheme not in ("", "http", "https"):
        raise errors.bad_request(f'invalid request "{ref}"')
    return scheme, name, port


def pod_location(pod: dict, port: str) -> tuple[str, str]:
    """(ip, port) of a pod; without a port, its first declared container port."""
    name = pod["metadata"]["name"]
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        raise errors.service_unavailable(f"pod {name} has no IP address yet")
    if not port:
        for c in (pod.get("spec") or {}).get("containers") or []:
            if c.get("ports"):
                port = str(c["ports"][0]["containerPort"])
                break
    return ip, port


def service_port_name(service: dict, port: str) -> str:
    """A port number means the Service port with that number; a name is taken as it is."""
    if not port.isdigit():
        return port
    for p in (service.get("spec") or {}).get("ports") or []:
        if str(p.get("port")) == port:
            return p.get("name") or ""
    raise errors.service_unavailable(
        f'no service port {port} found for service "{service["metadata"]["name"]}"')


def pick_endpoint(slices: list[dict], port_name: str, service: str, rng=random) -> tuple[str, int]:
    """A ready address and its port, from the slices' port named `port_name`, chosen at random."""
    candidates = []
    for s in slices:
        for p in s.get("ports") or []:
            if (p.get("name") or "") != port_name or p.get("port") is None:
                continue
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False or not ep.get("addresses"):
                    continue
                candidates.append((ep["addresses"][0], int(p["port"])))
    if not candidates:
        raise errors.service_unavailable(f'no endpoints available for service "{service}"')
    return rng.choice(candidates)


class PodProxy:
    def __init__(self, nodeproxy):
        self.np = nodeproxy
        # Pods serving https show whatever certificate they like: upstream does not verify them either.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.http = httpx.AsyncClient(verify=ctx, timeout=httpx.Timeout(30.0))

    async def pod(self, request: Request) -> Response:
        async def where(ns, name, port):
            return pod_location(await self.np._get("pods", ns, name), port)
        return await self._proxy(request, where)

    async def service(self, request: Request) -> Response:
        async def where(ns, name, port):
            svc = await self.np._get("services", ns, name)
            port_name = service_port_name(svc, port)
            store = self.np.registries.lookup("discovery.k8s.io", "v1", "endpointslices")
            page = await store.list(ns, ListOptions(label_selector=f"kubernetes.io/service-name={name}"))
            slices = [i.obj for i in page.items]
            return pick_endpoint(slices, port_name, name)
        return await self._proxy(request, where)

    async def _proxy(self, request: Request, where) -> Response:
        ns, ref = request.path_params["namespace"], request.path_params["name"]
        rest = request.path_params.get("path", "")
        try:
            await self.np._authorize(request.scope, request.method, request.url.path, request.query_params, None)
            scheme, name, port = split_scheme_name_port(ref)
            host, target_port = await where(ns, name, port)
            hostport = f"[{host}]" if ":" in host else host
            url = f"{scheme or 'http'}://{hostport}{':' + str(target_port) if target_port else ''}/{rest}"
            headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
            try:
                r = await self.http.request(request.method, url, params=request.query_params.multi_items(),
                                            content=await request.body(), headers=headers)
            except httpx.HTTPError as e:
                raise errors.service_unavailable(f"error trying to reach {name}: {e}")
        except errors.StatusError as e:
            return status_response(e)
        # the proxy's own path: links the pod's HTML makes to its root must stay under it
        path = request.url.path
        prefix = (path[:len(path) - len(rest)] if rest and path.endswith(rest) else path).rstrip("/")
        content = r.content
        if is_html(r.headers.get("content-type")) and content:
            encoding = r.encoding or "utf-8"
            content = rewrite_html(content.decode(encoding, "replace"), prefix).encode(encoding, "replace")
        out = Response(content, status_code=r.status_code)
        for k, v in r.headers.multi_items():
            if k.lower() == "location":
                v = rewrite_location(v, prefix)
            if k.lower() not in _HOP:
                out.headers.append(k, v)
        return out


def podproxy_routes(nodeproxy) -> list:
    pp = PodProxy(nodeproxy)
    routes = []
    for plural, handler in (("pods", pp.pod), ("services", pp.service)):
        base = f"/api/v1/namespaces/{{namespace}}/{plural}/{{name}}/proxy"
        routes += [Route(base, handler, methods=METHODS), Route(base + "/{path:path}", handler, methods=METHODS)]
    return routes
