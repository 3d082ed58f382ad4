"""The kubelet's HTTPS API (default port 10250), the upstream paths:

  GET /healthz, GET /pods, GET /metrics (kubelet_* and process_*)
  GET /stats/summary, GET /metrics/resource (CPU and memory of the node, pods, containers)
  GET /containerLogs/{namespace}/{pod}/{container}?follow&tailLines&...
  WS  /exec/{namespace}/{pod}/{container}?command=..&stdin&stdout&stderr&tty
  WS  /attach/{namespace}/{pod}/{container}?stdin&stdout&stderr&tty
  WS  /portForward/{namespace}/{pod}?ports=..

TLS with the certificate the agent hands start() (one the cluster CA signed through a
CSR, ../serving_cert.py, reloaded when renewed), else a self-signed one of its own. When a
CA is given (the cluster's, from the agent's kubeconfig), clients are asked for a
certificate; every request is then authenticated (that certificate, verified against the
CA, or a bearer token the API server reviews) and authorized (SubjectAccessReview on
nodes/<subresource>) as the kubelet does: auth.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Callable

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import rawupgrade
import tlspeer
from asgilifespan import OwnLifespan
from kubeclient import metrics

from ..runtime import labels as L
from ..runtime.podman import Podman
from . import logs as LG
from .auth import KubeletAuth, RequireAuth
from .certs import ensure_serving_cert
from .stats import ResourceStats, resource_metrics_text
from .portforward import serve_portforward
from .portforward_spdy import SUBPROTOCOLS as SPDY_TUNNEL, SpdyPortForwardSession, serve_spdy_portforward
from . import spdy_upgrade as SU
from .byteconn import RawUpgraded
from .spdy_exec import PROTOCOLS as SPDY_PROTOCOLS, pick_protocol as pick_spdy_protocol, serve_spdy_process
from .channels import WebSocketChannels
from .streams import pick_protocol, serve_process

log = logging.getLogger(__name__)


def _status(code: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": message, "reason": reason, "code": code}, status_code=code)


class _Asgi:
    """A bound method as a plain ASGI app (Starlette wraps methods as request handlers)."""

    def __init__(self, fn):
        self.fn = fn

    async def __call__(self, scope, receive, send):
        await self.fn(scope, receive, send)


def _truthy(v: str | None) -> bool:
    return v in ("1", "true", "True")


class PortTaken(OSError):
    """The kubelet port is held by another process."""
    plain_message = True   # a set-up error: its text says it all, no traceback


def bind_kubelet_port(address: str, port: int) -> socket.socket:
    """A listening socket on address:port (0: any free port), or PortTaken saying who to blame."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        sock.listen(1024)
    except OSError as e:
        sock.close()
        raise PortTaken(e.errno, f"the kubelet port {address}:{port} is taken by another process ({e.strerror}); "
                                 "choose another with --port (pocketkube up: --kubelet-port)") from None
    sock.set_inheritable(True)
    return sock


class KubeletServer:
    def __init__(self, podman: Podman, find_worker: Callable, *, node_name: str, address: str, port: int,
                 root_dir: str, client_ca_pem: str | None = None, list_pods: Callable | None = None,
                 static_pod: Callable | None = None, auth: KubeletAuth | None = None):
        self.podman, self.find_worker = podman, find_worker
        # (namespace, pod) -> the static component that pod mirrors (its .name, .log_path), or None
        self.static_pod = static_pod or (lambda _ns, _pod: None)
        self.node_name, self.address, self.port, self.root_dir = node_name, address, port, root_dir
        self.client_ca_pem = client_ca_pem
        self.auth = auth   # None: no authentication nor authorization (tests of the API alone)
        self.list_pods = list_pods or (lambda: [])
        self.stats = ResourceStats(podman, node_name)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sock: socket.socket | None = None
        self._contexts: list = []   # the TLS contexts serving, reloaded with a renewed certificate
        self.app = Starlette(routes=[
            Route("/healthz", self.healthz),
            Route("/pods", self.pods),
            Route("/metrics", self.metrics),
            Route("/metrics/resource", self.metrics_resource),
            Route("/stats/summary", self.stats_summary),
            Route("/containerLogs/{namespace}/{pod}/{container}", self.container_logs),
            WebSocketRoute("/exec/{namespace}/{pod}/{container}", self.exec_ws),
            WebSocketRoute("/attach/{namespace}/{pod}/{container}", self.attach_ws),
            WebSocketRoute("/portForward/{namespace}/{pod}", self.portforward_ws),
            # kubectl before 1.30 (and any kube-apiserver hop for it): HTTP/1.1 upgraded to SPDY/3.1
            Route("/exec/{namespace}/{pod}/{container}", _Asgi(self.exec_spdy), methods=["GET", "POST"]),
            Route("/attach/{namespace}/{pod}/{container}", _Asgi(self.attach_spdy), methods=["GET", "POST"]),
            Route("/portForward/{namespace}/{pod}", _Asgi(self.portforward_spdy), methods=["GET", "POST"]),
        ])

    # -- lifecycle ---------------------------------------------------------
    def bind(self) -> int:
        """Listen on the kubelet port (serving starts with start()); the port actually bound. A
        port another process holds is an error (PortTaken), never a port to advertise as ours."""
        if self._sock is None:
            self._sock = bind_kubelet_port(self.address, self.port)
            self.port = self._sock.getsockname()[1]
        return self.port

    async def start(self, cert: str | None = None, key: str | None = None) -> int:
        """Serve with the certificate and key files given, else a self-signed pair; the port."""
        self.bind()
        sock, self._sock = self._sock, None
        if cert is None or key is None:
            cert, key = ensure_serving_cert(os.path.join(self.root_dir, "pki"), self.node_name)
        cfg = Config()
        cfg.bind = [f"fd://{sock.detach()}"]   # hypercorn serves on, and closes, this fd
        cfg.certfile, cfg.keyfile = cert, key
        cfg.keep_alive_max_requests = 1 << 30
        cfg.graceful_timeout = 1  # open log/exec streams are cut on shutdown, as the kubelet does
        cfg.accesslog = None
        cfg.errorlog = logging.getLogger("nodeagent.server.hypercorn")
        if self.client_ca_pem:
            ca_path = os.path.join(self.root_dir, "pki", "client-ca.crt")
            with open(ca_path, "w") as f:
                f.write(self.client_ca_pem)
            # asked for, any accepted in the handshake, handed to auth.py in the scope to verify
            tlspeer.request_client_certificates(cfg, ca_path)
        make_context = cfg.create_ssl_context

        def create_ssl_context():
            context = make_context()
            self._contexts.append(context)
            return context
        cfg.create_ssl_context = create_ssl_context
        rawupgrade.install()   # SPDY upgrades reach the app (kubectl before 1.30)
        app = RequireAuth(self.app, self.auth) if self.auth is not None else self.app
        self._task = asyncio.ensure_future(serve(OwnLifespan(app), cfg, shutdown_trigger=self._stop.wait))
        return self.port

    def reload_certificate(self, cert: str, key: str) -> None:
        """Serve new connections with a renewed certificate (open ones keep the old)."""
        for context in self._contexts:
            context.load_cert_chain(cert, key)
        log.info("kubelet API serves a renewed certificate (%s)", cert)

    async def stop(self) -> None:
        if self._sock is not None:   # bound, never served
            self._sock.close()
            self._sock = None
        self._stop.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, 3)
            except (asyncio.TimeoutError, Exception):
                self._task.cancel()

    # -- lookups -----------------------------------------------------------
    async def _container(self, namespace: str, pod: str, container: str | None,
                         previous: bool = False) -> tuple[dict, dict, dict]:
        """(pod, container spec, runtime list entry) or raise LookupError(status response)."""
        w = self.find_worker(namespace, pod)
        if w is None:
            raise LookupError(_status(404, "NotFound", f'pods "{pod}" not found'))
        p = w.pod
        specs = {c["name"]: c for c in (p["spec"].get("initContainers") or []) + p["spec"]["containers"]}
        if not container:
            container = p["spec"]["containers"][0]["name"]
        if container not in specs:
            raise LookupError(_status(400, "BadRequest",
                                      f"container {container} is not valid for pod {pod}"))
        entries = [e for e in await self.podman.container_list({L.POD_UID: p["metadata"]["uid"]})
                   if (e.get("Labels") or {}).get(L.CONTAINER_NAME) == container]
        entries.sort(key=lambda e: int((e.get("Labels") or {}).get(L.RESTART_COUNT, "0")), reverse=True)
        idx = 1 if previous else 0
        if len(entries) <= idx:
            if previous:
                msg = f'previous terminated container "{container}" in pod "{pod}" not found'
            else:
                msg = f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating'
            raise LookupError(_status(400, "BadRequest", msg))
        return p, specs[container], entries[idx]

    # -- plain endpoints ---------------------------------------------------
    async def healthz(self, _req: Request) -> Response:
        return PlainTextResponse("ok")

    async def pods(self, _req: Request) -> Response:
        return JSONResponse({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.list_pods()})

    async def metrics(self, _req: Request) -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    async def metrics_resource(self, _req: Request) -> Response:
        return Response(resource_metrics_text(await self.stats.summary()), media_type=metrics.CONTENT_TYPE)

    async def stats_summary(self, _req: Request) -> Response:
        return JSONResponse(await self.stats.summary())

    async def container_logs(self, req: Request) -> Response:
        q = req.query_params
        static = self.static_pod(req.path_params["namespace"], req.path_params["pod"])
        if static is not None:
            return self._static_logs(static, req)
        try:
            _pod, _spec, entry = await self._container(req.path_params["namespace"], req.path_params["pod"],
                                                       req.path_params["container"], _truthy(q.get("previous")))
            opts = LG.options_from_query(q)
        except LookupError as e:
            return e.args[0]
        except ValueError as e:
            return _status(400, "BadRequest", str(e))
        info = await self.podman.container_inspect(entry["Id"]) or {}
        path = ((info.get("HostConfig") or {}).get("LogConfig") or {}).get("Path")
        follow = _truthy(q.get("follow"))

        async def ended() -> bool:
            info = await self.podman.container_inspect(entry["Id"])
            return info is None or not (info.get("State") or {}).get("Running")
        return StreamingResponse(self._log_stream(path, ended, opts, follow), media_type="text/plain")

    def _static_logs(self, comp, req: Request) -> Response:
        """A static component's own log (its process runs beside the agent, not in Podman)."""
        q, pod, container = req.query_params, req.path_params["pod"], req.path_params["container"]
        if container != comp.name:
            return _status(400, "BadRequest", f"container {container} is not valid for pod {pod}")
        if _truthy(q.get("previous")):
            return _status(400, "BadRequest",
                           f'previous terminated container "{container}" in pod "{pod}" not found')
        try:
            opts = LG.options_from_query(q)
        except ValueError as e:
            return _status(400, "BadRequest", str(e))

        async def ended() -> bool:  # the component lives as long as the agent serves its log
            return False
        return StreamingResponse(self._log_stream(comp.log_path, ended, opts, _truthy(q.get("follow"))),
                                 media_type="text/plain")

    async def _log_stream(self, path: str | None, ended, opts: LG.LogOptions, follow: bool):
        limiter = LG.Limiter(opts.limit_bytes)
        if not path or not os.path.exists(path):
            return
        with open(path, "rb") as f:
            data = f.read()
            lines, rest = LG.parse(data)
            pending = bytearray()
            for ln in LG.select(lines, opts):
                out, done = limiter.take(LG.render(ln, opts.timestamps))
                yield out
                if done:
                    return
            if not follow:
                return
            buf = rest
            idle = 0
            while True:
                chunk = f.read()
                if chunk:
                    idle = 0
                    lines, buf = LG.parse(buf + chunk, pending)
                    for ln in lines:
                        if opts.since is None or ln.time >= opts.since:
                            out, done = limiter.take(LG.render(ln, opts.timestamps))
                            yield out
                            if done:
                                return
                    continue
                idle += 1
                if idle % 10 == 0:  # every ~second: has the container ended?
                    if await ended():
                        tail = f.read()
                        if tail:
                            lines, _ = LG.parse(buf + tail, pending)
                            for ln in lines:
                                out, done = limiter.take(LG.render(ln, opts.timestamps))
                                yield out
                                if done:
                                    return
                        return
                await asyncio.sleep(0.1)

    # -- streams -----------------------------------------------------------
    async def _accept(self, ws: WebSocket) -> str | None:
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        proto = pick_protocol(offered) if offered else "channel.k8s.io"
        if proto is None:
            await ws.close(1002)
            return None
        await ws.accept(subprotocol=proto if offered else None)
        return proto

    async def _reject(self, ws: WebSocket, resp: JSONResponse) -> None:
        import json as _json
        body = _json.loads(resp.body)
        await ws.send_bytes(b"\x03" + _json.dumps(body).encode())
        await ws.close(1000)

    async def exec_ws(self, ws: WebSocket) -> None:
        if await self._accept(ws) is None:
            return
        q = ws.query_params
        command = q.getlist("command")
        try:
            _p, _spec, entry = await self._container(ws.path_params["namespace"], ws.path_params["pod"],
                                                     ws.path_params["container"])
        except LookupError as e:
            return await self._reject(ws, e.args[0])
        if not command:
            return await self._reject(ws, _status(400, "BadRequest", "you must specify at least 1 command"))
        if entry.get("State") != "running":
            return await self._reject(ws, _status(400, "BadRequest",
                                                  "container not running (" + entry.get("State", "") + ")"))
        stdin, tty = _truthy(q.get("stdin")), _truthy(q.get("tty"))
        proc = self.podman.exec_process(entry["Id"], command, stdin=stdin, tty=tty)
        await serve_process(WebSocketChannels(ws), proc.argv, proc.env, stdin=stdin, tty=tty, shown_argv=command)

    async def attach_ws(self, ws: WebSocket) -> None:
        if await self._accept(ws) is None:
            return
        q = ws.query_params
        try:
            _p, _spec, entry = await self._container(ws.path_params["namespace"], ws.path_params["pod"],
                                                     ws.path_params["container"])
        except LookupError as e:
            return await self._reject(ws, e.args[0])
        stdin, tty = _truthy(q.get("stdin")), _truthy(q.get("tty"))
        proc = self.podman.attach_process(entry["Id"], stdin=stdin)
        await serve_process(WebSocketChannels(ws), proc.argv, proc.env, stdin=stdin, tty=tty, shown_argv=["attach"])

    # -- the same streams over SPDY ------------------------------------------
    async def _spdy_target(self, scope, send, receive, protocols: list[str]):
        """(entry, protocol) for an exec/attach upgrade, or None once an error is answered."""
        if not SU.wants_spdy(scope):
            await SU.answer(send, 400, "BadRequest", "Upgrade request required")
            return None
        p = scope["path_params"]
        try:
            _p, _spec, entry = await self._container(p["namespace"], p["pod"], p["container"])
        except LookupError as e:
            await e.args[0](scope, receive, send)
            return None
        offered = SU.offered_protocols(scope)
        proto = pick_spdy_protocol(offered)
        if proto is None:
            await SU.answer(send, 403, "Forbidden", SU.negotiation_failed(offered, protocols))
            return None
        return entry, proto

    async def exec_spdy(self, scope, receive, send) -> None:
        q = Request(scope).query_params
        command = q.getlist("command")
        target = await self._spdy_target(scope, send, receive, SPDY_PROTOCOLS)
        if target is None:
            return
        entry, proto = target
        if not command:
            return await SU.answer(send, 400, "BadRequest", "you must specify at least 1 command")
        if entry.get("State") != "running":
            return await SU.answer(send, 400, "BadRequest", "container not running (" + entry.get("State", "") + ")")
        stdin, tty = _truthy(q.get("stdin")), _truthy(q.get("tty"))
        proc = self.podman.exec_process(entry["Id"], command, stdin=stdin, tty=tty)
        await SU.accept(send, proto)
        await serve_spdy_process(RawUpgraded(receive, send), proto, proc.argv, proc.env, stdin=stdin,
                                 stdout=_truthy(q.get("stdout")), stderr=_truthy(q.get("stderr")), tty=tty,
                                 shown_argv=command)

    async def attach_spdy(self, scope, receive, send) -> None:
        q = Request(scope).query_params
        target = await self._spdy_target(scope, send, receive, SPDY_PROTOCOLS)
        if target is None:
            return
        entry, proto = target
        stdin, tty = _truthy(q.get("stdin")), _truthy(q.get("tty"))
        proc = self.podman.attach_process(entry["Id"], stdin=stdin)
        await SU.accept(send, proto)
        await serve_spdy_process(RawUpgraded(receive, send), proto, proc.argv, proc.env, stdin=stdin,
                                 stdout=_truthy(q.get("stdout")), stderr=_truthy(q.get("stderr")), tty=tty,
                                 shown_argv=["attach"])

    async def portforward_spdy(self, scope, receive, send) -> None:
        if not SU.wants_spdy(scope):
            return await SU.answer(send, 400, "BadRequest", "Upgrade request required")
        p = scope["path_params"]
        w = self.find_worker(p["namespace"], p["pod"])
        if w is None:
            return await SU.answer(send, 404, "NotFound", f'pods "{p["pod"]}" not found')
        offered = SU.offered_protocols(scope)
        if offered and SU.PORTFORWARD_PROTOCOL not in offered:
            return await SU.answer(send, 403, "Forbidden", SU.negotiation_failed(offered, [SU.PORTFORWARD_PROTOCOL]))
        await SU.accept(send, SU.PORTFORWARD_PROTOCOL)
        conn = RawUpgraded(receive, send)
        try:
            await SpdyPortForwardSession(conn, w.pod_ip or "127.0.0.1").run()
        finally:
            await conn.close()

    async def portforward_ws(self, ws: WebSocket) -> None:
        w = self.find_worker(ws.path_params["namespace"], ws.path_params["pod"])
        if w is None:
            await ws.close(1008)
            return
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]
        tunnel = next((p for p in offered if p in SPDY_TUNNEL), None)
        if tunnel:  # kubectl 1.31+: SPDY/3.1 frames inside WebSocket messages
            return await serve_spdy_portforward(ws, w.pod_ip or "127.0.0.1", tunnel)
        await serve_portforward(ws, w.pod_ip or "127.0.0.1")
