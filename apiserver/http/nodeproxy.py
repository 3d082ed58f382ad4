"""The API server's side of pods/log, pods/exec, pods/attach, pods/portforward and
nodes/proxy: find the pod's node, then relay to that node agent's kubelet API
(HTTPS, port from the Node's status.daemonEndpoints.kubeletEndpoint).

Logs and node proxy are streamed HTTP; exec/attach/portforward are WebSockets
relayed frame by frame with the subprotocol both ends agree on (v5/v4
channel.k8s.io...), or, for kubectl before 1.30, HTTP/1.1 upgrades to SPDY/3.1
tunnelled to the node agent byte for byte (spdy_tunnel.py).

Mount with `create_app(extra_routes=nodeproxy_routes(registries, authenticator,
authorizer, client_cert=...))`.
"""
from __future__ import annotations

import asyncio
import logging
import os
import ssl
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
import websockets
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from apiserver.http.audit.middleware import DECISION_KEY
from apiserver.http import podoptions, spdy_tunnel
from apiserver.http.credentials import authenticate_request
from apiserver.http.requestinfo import parse_request_info
from apiserver.http.responses import status_response
from apiserver.machinery import errors, queryparams as qp

log = logging.getLogger("apiserver.http.nodeproxy")

DEFAULT_KUBELET_PORT = 10250


def kubelet_address(node: dict) -> tuple[str, int]:
    """InternalIP first, as the API server's default --kubelet-preferred-address-types."""
    status = node.get("status") or {}
    addrs = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    host = addrs.get("InternalIP") or addrs.get("ExternalIP") or addrs.get("Hostname") or \
        node["metadata"]["name"]
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or DEFAULT_KUBELET_PORT
    return host, int(port)


def container_for(pod: dict, requested: str | None) -> str:
    """The container a request means; upstream's wording when it is ambiguous or wrong."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    apps = [c["name"] for c in spec.get("containers") or []]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    eph = [c["name"] for c in spec.get("ephemeralContainers") or []]
    if not requested:
        if len(apps) == 1:
            return apps[0]
        msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(apps)}]"
        if inits:
            msg += f" or one of the init containers: [{' '.join(inits)}]"
        raise errors.bad_request(msg)
    if requested not in apps + inits + eph:
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


class NodeProxy:
    def __init__(self, registries, authenticator, authorizer, client_cert: tuple[str, str] | None = None,
                 kubelet_ca: str | None = None):
        self.registries, self.authenticator, self.authorizer = registries, authenticator, authorizer
        # Without --kubelet-certificate-authority node agents' (self-signed) serving
        # certificates are not verified, as upstream; with it, CA and address both are.
        self.ssl = spdy_tunnel.kubelet_context(client_cert, kubelet_ca)
        self.http = httpx.AsyncClient(verify=self.ssl, timeout=httpx.Timeout(30.0, read=None))
        self.tunnel_ssl = spdy_tunnel.tunnel_context(client_cert, kubelet_ca)

    # -- who may, and where to -------------------------------------------
    async def _authorize(self, scope, method: str, path: str, query, verb: str | None) -> None:
        """`verb`: what the request counts as; None for the one its method and path say."""
        user = await authenticate_request(self.authenticator, scope)   # records it for the audit log
        if user is None:
            raise errors.unauthorized()
        info = parse_request_info(method, path, query)
        info.verb = verb or info.verb
        verb = info.verb
        ok, reason = await self.authorizer.authorize(user, info)
        scope[DECISION_KEY] = ("allow" if ok else "forbid", reason)
        if not ok:
            what = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
            scope_txt = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
            msg = (f'{info.resource} "{info.name}" is forbidden: User "{user.name}" cannot {verb} resource '
                   f'"{what}" in API group ""{scope_txt}')
            raise errors.forbidden(msg + (f": {reason}" if reason else ""), name=info.name, kind=info.resource)

    async def _get(self, plural: str, namespace: str, name: str) -> dict:
        store = self.registries.lookup("", "v1", plural)
        item = await store.get(namespace, name)
        return item.obj if hasattr(item, "obj") else item

    async def _pod_target(self, namespace: str, name: str) -> tuple[dict, str, int]:
        pod = await self._get("pods", namespace, name)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        node = await self._get("nodes", "", node_name)
        host, port = kubelet_address(node)
        return pod, host, port

    # -- pods/log ----------------------------------------------------------
    async def pod_log(self, request: Request) -> Response:
        ns, name = request.path_params["namespace"], request.path_params["name"]
        try:
            await self._authorize(request.scope, "GET", request.url.path, request.query_params, "get")
            pod, host, port = await self._pod_target(ns, name)
            container = container_for(pod, qp.first(request.query_params, "container"))
            params = podoptions.log_params(request.query_params, name)
            url = f"https://{host}:{port}/containerLogs/{ns}/{name}/{container}"
            req = self.http.build_request("GET", url, params=params)
            try:
                upstream = await self.http.send(req, stream=True)
            except httpx.HTTPError as e:
                raise errors.service_unavailable(f"cannot reach the node agent for pod {name}: {e}")
        except errors.StatusError as e:
            return status_response(e)
        if upstream.status_code >= 400:
            body = await upstream.aread()
            await upstream.aclose()
            return Response(body, status_code=upstream.status_code, media_type="application/json")

        async def relay():
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            except httpx.HTTPError:
                return
            finally:
                await upstream.aclose()
        return StreamingResponse(relay(), media_type="text/plain")

    # -- exec / attach / portforward --------------------------------------
    async def stream(self, ws: WebSocket) -> None:
        ns, name = ws.path_params["namespace"], ws.path_params["name"]
        sub = ws.path_params["sub"]
        if sub not in ("exec", "attach", "portforward"):
            return await self._deny(ws, errors.StatusError(404, "NotFound",
                                                           "the server could not find the requested resource"))
        try:
            await self._authorize(ws.scope, "POST", ws.url.path, ws.query_params, "create")
            pod, host, port = await self._pod_target(ns, name)
            params = podoptions.stream_params(ws.query_params)
            if sub == "portforward":
                path = f"/portForward/{ns}/{name}"
            else:
                container = container_for(pod, qp.first(ws.query_params, "container"))
                path = f"/{sub}/{ns}/{name}/{container}"
        except errors.StatusError as e:
            return await self._deny(ws, e)
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        hop = [SPDY_TUNNEL_HOP if p == SPDY_TUNNEL else p for p in offered]
        url = f"wss://{host}:{port}{path}?{urlencode(params)}"
        try:
            backend = await websockets.connect(url, ssl=self.ssl, subprotocols=hop or None,
                                               max_size=None, open_timeout=10, ping_interval=None)
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
            return await self._deny(ws, errors.service_unavailable(
                f"cannot reach the node agent for pod {name}: {e}"))
        await ws.accept(subprotocol=SPDY_TUNNEL if backend.subprotocol == SPDY_TUNNEL_HOP else backend.subprotocol)
        await _relay(ws, backend)

    async def _deny(self, ws: WebSocket, err: errors.StatusError) -> None:
        try:
            await ws.send_denial_response(status_response(err))
        except RuntimeError:  # the server cannot send an HTTP answer to an upgrade: close instead
            await ws.close(1008, reason=err.status().get("message", "")[:120])

    async def spdy_stream(self, scope, receive, send) -> None:
        """exec/attach/portforward for SPDY clients: the same upgrade, tunnelled to the node agent."""
        p = scope["path_params"]
        ns, name, sub = p["namespace"], p["name"], scope["path"].rsplit("/", 1)[-1]
        request = Request(scope, receive)
        try:
            # authorized first, as upstream's filters do: a caller without the right gets its 403
            # whatever else is wrong with the request
            method = scope["method"]
            await self._authorize(scope, method, scope["path"], request.query_params,
                                  "create" if method == "POST" else "get")
            if not spdy_tunnel.is_spdy_upgrade(scope):
                raise errors.bad_request("Upgrade request required")
            pod, host, port = await self._pod_target(ns, name)
            params = podoptions.stream_params(request.query_params)
            if sub == "portforward":
                path = f"/portForward/{ns}/{name}"
            else:
                container = container_for(pod, qp.first(request.query_params, "container"))
                path = f"/{sub}/{ns}/{name}/{container}"
            try:
                backend = await spdy_tunnel.upgrade(host, port, f"{path}?{urlencode(params)}",
                                                    spdy_tunnel.offered_protocols(scope), self.tunnel_ssl)
            except (OSError, asyncio.TimeoutError, ValueError, asyncio.IncompleteReadError) as e:
                raise errors.service_unavailable(f"cannot reach the node agent for pod {name}: {e}") from None
        except errors.StatusError as e:
            return await status_response(e)(scope, receive, send)
        if backend.status != 101:   # the node agent refused: its answer, as it gave it
            backend.close()
            ctype = (backend.header("content-type") or "application/json").encode("latin-1")
            await send({"type": "http.response.start", "status": backend.status,
                        "headers": [(b"content-type", ctype), (b"content-length", str(len(backend.body)).encode())]})
            return await send({"type": "http.response.body", "body": backend.body})
        chosen = backend.header("x-stream-protocol-version") or ""
        await send({"type": "http.response.start", "status": 101,
                    "headers": [(b"connection", b"Upgrade"), (b"upgrade", b"SPDY/3.1"),
                                *([(b"x-stream-protocol-version", chosen.encode("latin-1"))] if chosen else [])]})
        await spdy_tunnel.splice(receive, send, backend)

    # -- nodes/proxy -------------------------------------------------------
    async def node_proxy(self, request: Request) -> Response:
        name = request.path_params["name"]
        rest = request.path_params.get("path", "")
        try:
            await self._authorize(request.scope, request.method, request.url.path, request.query_params,
                                  request.method.lower() if request.method != "POST" else "create")
            host, port = kubelet_address(await self._get("nodes", "", name))
            try:
                r = await self.http.request(request.method, f"https://{host}:{port}/{rest}",
                                            params=request.query_params.multi_items(),
                                            content=await request.body(), timeout=30)
            except httpx.HTTPError as e:
                raise errors.service_unavailable(f"cannot reach node {name}: {e}")
        except errors.StatusError as e:
            return status_response(e)
        return Response(r.content, status_code=r.status_code,
                        media_type=r.headers.get("content-type", "application/octet-stream"))


def podproxy_routes(np) -> list:
    from apiserver.http.podproxy import podproxy_routes as routes
    return routes(np)


def resource_metrics_routes(np) -> list:
    from apiserver.http.resourcemetrics import resource_metrics_routes as routes   # it imports this module
    return routes(np)


# kubectl 1.31+ port-forward: SPDY/3.1 frames inside WebSocket messages. The
# websockets library (our hop to the node agent) takes only RFC 7230 tokens as
# subprotocols and "/" is not one, so that hop names it by a token alias that the
# node agent also accepts (nodeagent/server/portforward_spdy.py).
SPDY_TUNNEL, SPDY_TUNNEL_HOP = "SPDY/3.1+portforward.k8s.io", "spdy-3.1.portforward.k8s.io"


async def _relay(ws: WebSocket, backend) -> None:
    async def client_to_backend():
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            if msg.get("bytes") is not None:
                await backend.send(msg["bytes"])
            elif msg.get("text") is not None:
                await backend.send(msg["text"])

    async def backend_to_client():
        async for m in backend:
            if isinstance(m, bytes):
                await ws.send_bytes(m)
            else:
                await ws.send_text(m)

    tasks = [asyncio.ensure_future(client_to_backend()), asyncio.ensure_future(backend_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, websockets.WebSocketException, OSError):
        pass
    finally:
        for t in tasks:
            t.cancel()
        await backend.close()
        try:
            await ws.close(1000)
        except RuntimeError:
            pass


class _Asgi:
    """A bound method as a plain ASGI app (Starlette wraps methods as request handlers)."""

    def __init__(self, fn):
        self.fn = fn

    async def __call__(self, scope, receive, send):
        await self.fn(scope, receive, send)


def kubelet_client_cert(pki) -> tuple[str, str]:
    """The certificate this server shows node agents (upstream's
    --kubelet-client-certificate): signed by the cluster CA, which node agents
    trust from their kubeconfig. Issued once, next to the CA."""
    from apiserver.auth.pki import issue_client_cert
    d = Path(pki.ca_cert).parent
    cert, key = d / "apiserver-kubelet-client.crt", d / "apiserver-kubelet-client.key"
    if not (cert.exists() and key.exists()):
        cert_pem, key_pem = issue_client_cert(pki, "kube-apiserver-kubelet-client", ["system:masters"])
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key_pem)
        cert.write_bytes(cert_pem)
    return str(cert), str(key)


def nodeproxy_routes(registries, authenticator, authorizer, *, client_cert: tuple[str, str] | None = None,
                     pki=None, kubelet_ca: str | None = None) -> list:
    """Routes for create_app(extra_routes=...). With `pki` (the server's ServingFiles)
    the server authenticates to node agents with a CA-signed client certificate; with
    `kubelet_ca` it verifies theirs."""
    if client_cert is None and pki is not None:
        client_cert = kubelet_client_cert(pki)
    np = NodeProxy(registries, authenticator, authorizer, client_cert, kubelet_ca)
    base = "/api/v1/namespaces/{namespace}/pods/{name}"
    return [
        Route(base + "/log", np.pod_log, methods=["GET"]),
        WebSocketRoute(base + "/{sub:str}", np.stream),
        Route(base + "/exec", _Asgi(np.spdy_stream), methods=["POST", "GET"]),
        Route(base + "/attach", _Asgi(np.spdy_stream), methods=["POST", "GET"]),
        Route(base + "/portforward", _Asgi(np.spdy_stream), methods=["POST", "GET"]),
        Route("/api/v1/nodes/{name}/proxy", np.node_proxy, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/api/v1/nodes/{name}/proxy/{path:path}", np.node_proxy,
              methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        *resource_metrics_routes(np),   # metrics.k8s.io reads the node agents the same way
        *podproxy_routes(np),
    ]
