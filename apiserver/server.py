"""The API server process: storage, registries, admission, the ASGI app, and hypercorn.

Assembly, in the order a request later walks back down:
  store      SQLiteStore(DATA_DIR/state.db), or EtcdStore with --etcd-servers,
             wrapped in CachedStore (the watch cache)
  registries build_registries(store, catalogue), then ensure_defaults (default
             namespaces, the `kubernetes` Service and its endpoints)
  admission  build_chain(plugins, registries) -> (mutate, validate)
  app        create_app(...): a plain ASGI app that knows nothing of its server
  serving    hypercorn: TLS, ALPN h2 + http/1.1, on a socket we bind ourselves
             (so --secure-port 0 works and the kubeconfig names the real port)

SIGINT/SIGTERM stop it cleanly: hypercorn stops accepting, gives open requests
and watches --shutdown-timeout to finish, then we close the store; exit 0.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import ssl
from dataclasses import dataclass
from typing import Awaitable, Callable

from openapi import catalogue

from .auth.authorizer import ModeAuthorizer, parse_modes
from .auth.credentials import Credentials, ensure_credentials
from .options import ServerOptions

log = logging.getLogger("apiserver")

# client-go multiplexes every request on one HTTP/2 connection; hypercorn's
# default of 1000 requests per connection would GOAWAY it mid-flight.
KEEP_ALIVE_MAX_REQUESTS = 2**62
# Watches stay open for many minutes; hypercorn must not time them out for being quiet.
KEEP_ALIVE_TIMEOUT_S = 3600


class ServerSetupError(RuntimeError):
    """A plain, user-facing reason the server cannot start (missing component, bad flag)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Listen on host:port (port 0: the kernel picks). Hypercorn is handed the fd."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServerSetupError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _import(module: str, name: str, what: str):
    """Import a part another component provides, or fail with a plain sentence."""
    try:
        mod = __import__(module, fromlist=[name])
        return getattr(mod, name)
    except (ImportError, AttributeError) as e:
        raise ServerSetupError(f"{what} is not available yet ({module}.{name}: {e})") from None


def build_store(opts: ServerOptions):
    """The backend chosen by flags, behind the watch cache."""
    if opts.etcd_servers:
        EtcdStore = _import("apiserver.storage.etcd", "EtcdStore", "the etcd storage backend")
        backend = EtcdStore(opts.etcd_servers, prefix=opts.etcd_prefix, ca_file=opts.etcd_cafile,
                            cert_file=opts.etcd_certfile, key_file=opts.etcd_keyfile,
                            compaction_interval=opts.etcd_compaction_interval)
    else:
        SQLiteStore = _import("apiserver.storage.sqlite", "SQLiteStore", "the SQLite storage backend")
        backend = SQLiteStore(opts.data_dir / "state.db")
        start_compactor = getattr(backend, "start_compactor", None)
        if start_compactor is not None and opts.etcd_compaction_interval > 0:
            # As kube-apiserver does on etcd: every interval, compact to the revision
            # seen one interval ago, however few writes came since (no count window).
            start_compactor(opts.etcd_compaction_interval, keep_window=0)
    CachedStore = _import("apiserver.storage.cache", "CachedStore", "the watch cache")
    return CachedStore(backend)


async def _maybe_await(value):
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


def admission_plugin_names(enabled: list[str], disabled: list[str], defaults: tuple[str, ...]) -> list[str]:
    """As kube-apiserver: the default set, plus --enable-admission-plugins, minus --disable-admission-plugins."""
    names = [*defaults, *(n for n in enabled if n not in defaults)]
    return [n for n in names if n not in set(disabled)]


async def build_admission(opts: ServerOptions, registries):
    from apiserver.admission import DEFAULT_PLUGINS, build_chain
    from apiserver.admission.default_toleration_seconds import configure_default_seconds

    configure_default_seconds(opts.default_not_ready_toleration_seconds, opts.default_unreachable_toleration_seconds)
    names = admission_plugin_names(opts.enable_admission_plugins, opts.disable_admission_plugins, DEFAULT_PLUGINS)
    try:
        return await _maybe_await(build_chain(names, registries))
    except ValueError as e:  # an unknown plugin name: refuse to start, as upstream
        raise ServerSetupError(str(e)) from None


async def build_app(opts: ServerOptions, store, creds: Credentials, port: int):
    """Everything above the store: registries, defaults, admission, the ASGI app."""
    build_registries = _import("apiserver.registry", "build_registries", "the registry")
    ensure_defaults = _import("apiserver.registry.bootstrap", "ensure_defaults", "the registry bootstrap")
    create_app = _import("apiserver.http.app", "create_app", "the HTTP layer")
    registries = build_registries(store, catalogue.load())
    from apiserver.registry import allocators  # the kinds engineer's: ranges before the first Service
    allocators.configure(opts.service_cluster_ip_range, "%d-%d" % opts.service_node_port_range)
    await _maybe_await(ensure_defaults(registries, kubernetes_service_ip=opts.first_service_ip,
                                       apiserver_ip=opts.apiserver_ip, apiserver_port=port,
                                       endpoints_reconciled=opts.endpoint_reconciler_type == "lease"))
    from apiserver.registry.customresources.controller import CRDController  # serves custom resources
    await CRDController(registries, registries.catalogue).start()
    mutate, validate = await build_admission(opts, registries)
    # RBAC (auth APIs engineer): the bootstrap roles exist whatever the mode, as upstream.
    from apiserver.auth.rbac import RBACAuthorizer
    from apiserver.auth.rbac_bootstrap import ensure_bootstrap_policy
    await ensure_bootstrap_policy(registries)
    rbac = RBACAuthorizer(registries)
    authorizer = ModeAuthorizer(parse_modes(",".join(opts.authorization_mode)), rbac=rbac)
    from apiserver.auth.rbac_escalation import escalation_guard  # no granting more than one holds
    validate = escalation_guard(validate, authorizer, rbac)
    from apiserver.http.nodeproxy import nodeproxy_routes  # pods/log, exec, attach, portforward → node agents
    # Auth APIs (reviews, serviceaccounts/token, OIDC discovery); the chain it returns also accepts SA JWTs.
    from apiserver.http.handlers.reviews import install_auth_apis
    from apiserver.http.oidc import oidc_routes
    authenticator = install_auth_apis(registries, creds.tokens, authorizer, creds.pki.sa_key, creds.pki.sa_pub)
    app = create_app(
        registries=registries,
        authenticator=authenticator,
        authorizer=authorizer,
        extra_routes=[*nodeproxy_routes(registries, authenticator, authorizer, pki=creds.pki),
                      *oidc_routes(authenticator, authenticator.service_accounts.signer, authenticator.issuer)],
        admission_mutate=mutate,
        admission_validate=validate,
        service_cluster_ip_range=opts.service_cluster_ip_range,
        service_node_port_range="%d-%d" % opts.service_node_port_range,
    )
    app.state.registries = registries   # for the endpoint reconciler started beside it
    # What start-up built (schemas, catalogue, routes) lives as long as the server: keep
    # it out of the collector's way, so full collections walk only what requests made.
    gc.collect()
    gc.freeze()
    # The watch cache holds every object (many dicts and lists each): with the default
    # thresholds, collections of it cost about a fifth of a create. Young cycles are
    # still found at every (rarer) young collection. Measured with profile_create --https.
    gc.set_threshold(50_000, 20, 20)
    return app


async def start_endpoint_reconciler(opts: ServerOptions, app, port: int):
    """The `kubernetes` Service's endpoints list every live API server (leases in kube-system)."""
    if opts.endpoint_reconciler_type != "lease":
        return None
    from apiserver.registry.endpoint_reconciler import EndpointReconciler, ServerAddress
    reconciler = EndpointReconciler(app.state.registries, ServerAddress(opts.apiserver_ip, port),
                                    lease_duration_s=opts.identity_lease_duration_seconds,
                                    renew_interval_s=opts.identity_lease_renew_interval_seconds)
    await reconciler.start()
    return reconciler


def hypercorn_config(creds: Credentials, sock: socket.socket, opts: ServerOptions):
    from hypercorn.config import Config

    cfg = Config()
    cfg.bind = [f"fd://{sock.fileno()}"]
    cfg.certfile = str(creds.pki.cert)
    cfg.keyfile = str(creds.pki.key)
    cfg.alpn_protocols = ["h2", "http/1.1"]
    cfg.keep_alive_max_requests = KEEP_ALIVE_MAX_REQUESTS
    cfg.keep_alive_timeout = KEEP_ALIVE_TIMEOUT_S
    cfg.graceful_timeout = opts.shutdown_timeout
    # client-go opens up to 250 concurrent streams (watches are streams too).
    cfg.h2_max_concurrent_streams = 1000
    cfg.accesslog = None
    cfg.errorlog = logging.getLogger("hypercorn.error")
    cfg.include_server_header = False
    return cfg


@dataclass
class RunningServer:
    """What `pocketkube up` and tests need once the server listens."""

    opts: ServerOptions
    creds: Credentials
    port: int

    @property
    def url(self) -> str:
        return self.creds.url


async def serve(opts: ServerOptions, shutdown: asyncio.Event,
                on_ready: Callable[[RunningServer], Awaitable[None] | None] | None = None) -> None:
    """Run until `shutdown` is set. Raises ServerSetupError with a plain message on bad set-up."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from . import hypercorn_h2_fix  # late request DATA must not kill an HTTP/2 connection (see the module)
    hypercorn_h2_fix.install()
    from . import hypercorn_status_line  # `HTTP/1.1 404 Not Found`, as Go writes it (see the module)
    hypercorn_status_line.install()

    opts.data_dir.mkdir(parents=True, exist_ok=True)
    sock = bind_socket(opts.bind_address, opts.secure_port)
    port = sock.getsockname()[1]
    try:
        creds = ensure_credentials(opts.data_dir, port=port, bind_address=opts.bind_address,
                                   advertise_address=opts.advertise_address,
                                   first_service_ip=opts.first_service_ip,
                                   token_auth_file=opts.token_auth_file)
        store = build_store(opts)
    except BaseException:
        sock.close()
        raise
    # Listen at once, behind a gate that answers health checks (and 503s) until the
    # bootstrap has reached the store: a server started before etcd keeps retrying.
    from .startup_gate import StartupGate, build_until_ready
    gate = StartupGate(store)
    reconciler = None
    try:
        cfg = hypercorn_config(creds, sock, opts)
        running = RunningServer(opts, creds, port)

        async def bring_up() -> None:
            nonlocal reconciler
            app = await build_until_ready(lambda: build_app(opts, store, creds, port), shutdown)
            if app is None:
                return
            reconciler = await start_endpoint_reconciler(opts, app, port)
            gate.open(app)
            log.info("serving url=%s kubeconfig=%s", creds.url, creds.admin_kubeconfig)
            if on_ready is not None:
                await _maybe_await(on_ready(running))

        async def shutdown_trigger() -> None:
            await shutdown.wait()
            # Leave the kubernetes endpoints first, so clients move to the other servers
            # while this one drains (upstream removes its endpoint at shutdown too).
            if reconciler is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reconciler.stop(), 5)

        starter = asyncio.create_task(bring_up())

        def on_started(task: asyncio.Task) -> None:
            # A bootstrap that fails for good (not storage being away) ends the process:
            # stop serving; the error is raised below once hypercorn has shut down.
            if not task.cancelled() and task.exception() is not None:
                log.error("start-up failed: %s", task.exception())
                shutdown.set()
        starter.add_done_callback(on_started)
        try:
            await hypercorn_serve(gate, cfg, shutdown_trigger=shutdown_trigger, mode="asgi")
        except (ssl.SSLError, ConnectionError) as e:
            # While closing, a TLS peer that keeps writing after close_notify makes hypercorn's
            # wait_closed() raise; the shutdown itself is done, so it is not a failed exit.
            if not shutdown.is_set():
                raise
            log.warning("connection error while shutting down: %s", e)
        finally:
            starter.cancel()
            with contextlib.suppress(BaseException):
                await starter
        if starter.done() and not starter.cancelled() and starter.exception() is not None:
            raise starter.exception()
    finally:
        with contextlib.suppress(Exception):
            await store.close()
        # hypercorn closes the fd it was handed; closing again must not fail the shutdown.
        with contextlib.suppress(OSError):
            sock.close()
    log.info("stopped")


def install_signal_handlers(shutdown: asyncio.Event) -> None:
    """First SIGINT/SIGTERM: graceful stop. A second one: stop now."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if shutdown.is_set():
            log.warning("second signal %s: exiting now", signal.Signals(signum).name)
            raise SystemExit(1)
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        shutdown.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    loop.set_exception_handler(_quiet_connection_teardown)


def _is_connection_teardown(exc: BaseException | None) -> bool:
    """A peer that went away mid-TLS (close-notify races, a TLS shutdown that times
    out): hypercorn leaves these in connection tasks nobody awaits."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_connection_teardown(e) for e in exc.exceptions)
    if isinstance(exc, TimeoutError):
        return "SSL shutdown" in str(exc)
    return isinstance(exc, (ssl.SSLError, ConnectionError))


def _quiet_connection_teardown(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # One debug line instead of a traceback per closed client connection; anything
    # else still goes to asyncio's default handler.
    if _is_connection_teardown(context.get("exception")):
        log.debug("client connection ended uncleanly: %s", context.get("exception"))
        return
    loop.default_exception_handler(context)


def configure_logging(level: int = logging.INFO) -> None:
    """One event per line: time, level, component, message."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%Y-%m-%dT%H:%M:%S")
