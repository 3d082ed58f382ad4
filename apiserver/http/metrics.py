"""The API server's own metrics (upstream's names and labels) and GET /metrics.

MetricsMiddleware wraps the whole app: it times each request and reads, once it
is answered, what the request was about from the RequestInfo the API route left
in the ASGI scope (other routes are parsed here). Long-running requests (watches,
exec/attach/portforward/log/proxy) leave the in-flight gauge and count in
apiserver_longrunning_requests while they stream, and are not put in the
duration histogram, whose buckets are for requests that answer.
"""
from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from promtext import CONTENT_TYPE, Counter, Gauge, Histogram, process_families, render
from apiserver.http.requestinfo import RequestInfo, parse_request_info
from apiserver.machinery import errors

INFO_KEY = "pocketkube.request_info"   # where the API route leaves its RequestInfo in the scope

_REQUEST_LABELS = ("verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component")
_DURATION_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20,
                     30, 45, 60)
_SIZE_BUCKETS = tuple(1000 * 10 ** i for i in range(8))
_LONGRUNNING_SUBRESOURCES = frozenset(("exec", "attach", "portforward", "log", "proxy"))


def reported_verb(method: str, info: RequestInfo, content_type: str) -> str:
    """Upstream's CleanVerb: the HTTP method, except LIST, WATCH, APPLY and CONNECT."""
    if info.verb == "list":
        return "LIST"
    if info.verb == "watch":
        return "WATCH"
    if method == "PATCH" and content_type.startswith("application/apply-patch"):
        return "APPLY"
    if info.subresource in _LONGRUNNING_SUBRESOURCES and info.subresource != "log":
        return "CONNECT"
    return method


def reported_scope(info: RequestInfo) -> str:
    """Upstream's CleanScope."""
    if info.name or info.verb == "create":
        return "resource"
    if info.namespace:
        return "namespace"
    return "cluster" if info.is_resource_request else ""


# User-Agent product -> the `client` label of pocketkube_apiserver_requests_by_client_total:
# a fixed set of values, whatever clients send, so the series cannot grow without bound.
_CLIENTS = ((b"pocketkube-controller-manager", "kube-controller-manager"), (b"pocketkube-nodeagent", "kubelet"),
            (b"pocketkube-proxy", "kube-proxy"), (b"pocketkube-dns", "dns"), (b"kubectl", "kubectl"),
            (b"Mozilla/", "browser"))
_CLIENT_CACHE_MAX = 512


def client_of(user_agent: bytes) -> str:
    for prefix, client in _CLIENTS:
        if user_agent.startswith(prefix):
            return client
    return "other"


def is_long_running(info: RequestInfo) -> bool:
    return info.verb == "watch" or info.subresource in _LONGRUNNING_SUBRESOURCES


class ApiMetrics:
    """`storage`: the store's etcd_request_duration_seconds (timed below the watch cache);
    `object_counts`: () -> {resource: stored objects} for apiserver_storage_objects."""

    def __init__(self, storage: Histogram | None = None, object_counts=None, admission: tuple = (),
                 const_labels: dict[str, str] | None = None):
        self.const_labels = const_labels   # on every sample: which worker of the server answers (workers.py)
        self.requests = Counter("apiserver_request_total",
                                "Counter of apiserver requests broken out for each verb, dry run value, group, "
                                "version, resource, scope, component, and HTTP response code.",
                                (*_REQUEST_LABELS, "code"))
        self.durations = Histogram("apiserver_request_duration_seconds",
                                   "Response latency distribution in seconds for each verb, dry run value, group, "
                                   "version, resource, subresource, scope and component.",
                                   _REQUEST_LABELS, _DURATION_BUCKETS)
        self.sizes = Histogram("apiserver_response_sizes",
                               "Response size distribution in bytes for each group, version, verb, resource, "
                               "subresource, scope and component.", _REQUEST_LABELS, _SIZE_BUCKETS)
        self.inflight = Gauge("apiserver_current_inflight_requests",
                              "Maximal number of currently used inflight request limit of this apiserver per "
                              "request kind in last second.", ("request_kind",))
        self.inflight.values.update({("readOnly",): 0, ("mutating",): 0})
        self.longrunning = Gauge("apiserver_longrunning_requests",
                                 "Gauge of all active long-running apiserver requests broken out by verb, group, "
                                 "version, resource, scope and component. Not all requests are tracked this way.",
                                 ("verb", "group", "version", "resource", "subresource", "scope", "component"))
        self.watch_events = Counter("apiserver_watch_events_total",
                                    "Number of events sent in watch clients", ("group", "version", "kind"))
        self.by_client = Counter("pocketkube_apiserver_requests_by_client_total",
                                 "Requests received, by the kind of client that sent them (from its User-Agent): "
                                 "what the cluster page shows as each component's request rate.", ("client",))
        self.storage = storage
        self.admission = admission
        self.extra: list = []   # more families (apiserver_flowcontrol_*), added by the assembly
        self.storage_objects = Gauge("apiserver_storage_objects",
                                     "Number of stored objects at the time of last check split by kind.",
                                     ("resource",), read=lambda: {(r,): n for r, n in (object_counts or dict)().items()})

    def families(self) -> list:
        return [self.requests, self.by_client, self.durations, self.sizes, self.inflight, self.longrunning, self.watch_events,
                *(f for f in (self.storage,) if f is not None), *self.admission, self.storage_objects,
                *self.extra, *process_families()]


class MetricsMiddleware:
    """ASGI middleware counting every HTTP request into `metrics` (an ApiMetrics)."""

    def __init__(self, app, metrics: ApiMetrics):
        self.app, self.metrics = app, metrics
        self._clients: dict[bytes, tuple] = {}   # User-Agent -> (client,): one lookup per request

    def _count_client(self, headers) -> None:
        agent = b""
        for k, v in headers:
            if k == b"user-agent":
                agent = v
                break
        key = self._clients.get(agent)
        if key is None:
            key = (client_of(agent),)
            if len(self._clients) < _CLIENT_CACHE_MAX:
                self._clients[agent] = key
        values = self.metrics.by_client.values
        values[key] = values.get(key, 0) + 1

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        m = self.metrics
        self._count_client(scope["headers"])
        method = scope["method"]
        kind = ("readOnly",) if method in ("GET", "HEAD") else ("mutating",)
        inflight = m.inflight.values
        inflight[kind] += 1
        start = time.perf_counter()
        code, size, streaming = 500, 0, None

        async def counted_send(message):
            nonlocal code, size, streaming
            if message["type"] == "http.response.start":
                code = message["status"]
                info = scope.get(INFO_KEY)
                if info is not None and code < 300 and is_long_running(info):
                    streaming = self._labels(scope, info, code)[:8]
                    key = (streaming[0], *streaming[2:8])
                    lr = m.longrunning.values
                    lr[key] = lr.get(key, 0) + 1
                    inflight[kind] -= 1
            else:
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted_send)
        finally:
            info = scope.get(INFO_KEY) or parse_request_info(method, scope["path"], {})
            labels = self._labels(scope, info, code) if streaming is None else (*streaming, str(code))
            req = m.requests.values
            req[labels] = req.get(labels, 0) + 1
            if streaming is None:
                inflight[kind] -= 1
                m.durations.observe(labels[:8], time.perf_counter() - start)
                m.sizes.observe(labels[:8], size)
            else:
                key = (streaming[0], *streaming[2:8])
                m.longrunning.values[key] -= 1

    @staticmethod
    def _labels(scope, info: RequestInfo, code: int) -> tuple:
        content_type = ""
        if scope["method"] == "PATCH":
            for k, v in scope["headers"]:
                if k == b"content-type":
                    content_type = v.decode("latin-1")
        dry_run = "All" if b"dryRun=All" in scope.get("query_string", b"") else ""
        return (reported_verb(scope["method"], info, content_type), dry_run, info.group, info.version,
                info.resource, info.subresource, reported_scope(info), "apiserver", str(code))


def metrics_endpoint(metrics: ApiMetrics, authenticated, authorizer, forbidden, status_response):
    """GET /metrics: a non-resource URL, authorized as upstream (system:monitoring's rule)."""
    async def endpoint(request: Request):
        try:
            user = await authenticated(request)
            info = parse_request_info("GET", "/metrics", {})
            allowed, reason = await authorizer.authorize(user, info)
            if not allowed:
                raise forbidden(user, reason)
        except errors.StatusError as e:
            return status_response(e)
        return Response(render(metrics.families(), metrics.const_labels), media_type=CONTENT_TYPE)
    return endpoint
