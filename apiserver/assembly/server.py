"""The API server process: storage, registries, admission, the ASGI app, serving.

Assembly, in the order a request later walks back down:
  store      SQLiteStore(DATA_DIR/state.db), or EtcdStore with --etcd-servers,
             (values of the resources --encryption-provider-config names are
             encrypted right above it: EncryptedStore), wrapped in CachedStore
             (the watch cache)
  registries Registries(store, catalogue, settings from the flags), then
             ensure_defaults (bootstrap.py: default namespaces, the `kubernetes`
             Service and its endpoints)
  admission  build_chain(plugins, registries, settings) -> (mutate, validate)
  auth       RBAC bootstrap policy (rbac_bootstrap.py), the authorizer, the
             authenticator chain and the auth APIs (authentication.py)
  app        create_app(...): a plain ASGI app that knows nothing of its server
  serving    serving/ (the only module that knows the HTTP server and TLS),
             on a socket bound here (so --secure-port 0 works and the kubeconfig
             names the real port)

SIGINT/SIGTERM stop it cleanly: the HTTP server stops accepting, gives open
requests and watches --shutdown-timeout to finish, then we close the store; exit 0.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from openapi import catalogue

from apiserver.admission import DEFAULT_PLUGINS, AdmissionSettings, build_chain
from apiserver.auth.authorizer import ModeAuthorizer, parse_modes
from apiserver.auth.certificates_guard import certificate_guards
from apiserver.auth.node_authorizer import NodeAuthorizer
from apiserver.auth.page_viewer import PageViewerLimit
from apiserver.auth.credentials import Credentials, client_host, ensure_credentials
from apiserver.auth.kubeconfig import server_url
from apiserver.auth.rbac import RBACAuthorizer
from apiserver.auth.rbac_escalation import escalation_guard
from apiserver.http.app import create_app
from apiserver.http.audit import policy as audit_policy
from apiserver.http.audit.logfile import AuditLog
from apiserver.http.flowcontrol.dispatcher import FlowControl
from apiserver.http.metrics import ApiMetrics
from apiserver.http.nodeproxy import kubelet_client_cert, nodeproxy_routes
from apiserver.http.resourcemetrics import RESOURCES as METRICS_RESOURCES
from apiserver.http.oidc import oidc_routes
from apiserver.registry.customresources.controller import CRDController
from apiserver.registry.registries import Registries, RegistrySettings
from apiserver.storage.cache import CachedStore
from apiserver.storage.encrypted import EncryptedStore
from apiserver.storage.etcd import EtcdStore
from apiserver.storage.sqlite import SQLiteStore

from . import encryption_config, serving
from .admission_metrics import controller_histogram, step_histogram, timed, webhook_histogram
from .authentication import install_auth_apis
from .bootstrap import ensure_defaults
from .cluster_info import PATH as CLUSTER_INFO_PATH, publish_cluster_info
from .endpoint_reconciler import EndpointReconciler, ServerAddress
from .ip_repair import IPRepairLoop, repair_once
from .instrumented_store import InstrumentedStore, storage_histogram
from .options import ServerOptions
from .rbac_bootstrap import ensure_bootstrap_policy
from .startup_gate import StartupGate, build_until_ready

log = logging.getLogger("apiserver")


# How long a worker waits for its app before serving behind the start-up gate.
WORKER_JOIN_TIMEOUT_S = 10.0


class ServerSetupError(RuntimeError):
    """A plain, user-facing reason the server cannot start (a port in use, a bad flag)."""


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """Listen on host:port (port 0: the kernel picks). The HTTP server is handed the fd.
    reuse_port: several sockets (one per worker) share the port; the kernel spreads connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServerSetupError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def private_dir(path: Path) -> None:
    """The data directory (the store, keys, kubeconfigs) is its owner's alone: 0700,
    as etcd and k3s keep theirs."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def build_store(opts: ServerOptions, *, shared: bool = False, compacts: bool = True):
    """The backend chosen by flags, timed (etcd_request_duration_seconds), behind the watch cache.
    shared: other processes (workers) use the same store; compacts: this process compacts it."""
    if opts.etcd_servers:
        backend = EtcdStore(opts.etcd_servers, prefix=opts.etcd_prefix, ca_file=opts.etcd_cafile,
                            cert_file=opts.etcd_certfile, key_file=opts.etcd_keyfile,
                            compaction_interval=opts.etcd_compaction_interval if compacts else 0)
    else:
        backend = SQLiteStore(opts.data_dir / "state.db", shared=shared)
        if compacts and opts.etcd_compaction_interval > 0:
            # As kube-apiserver does on etcd: every interval, compact to the revision
            # seen one interval ago, however few writes came since (no count window).
            backend.start_compactor(opts.etcd_compaction_interval, keep_window=0)
    if opts.encryption_provider_config is not None:
        backend = EncryptedStore(backend, encryption_resolver(opts.encryption_provider_config))
    return CachedStore(InstrumentedStore(backend, storage_histogram()))


def build_audit(opts: ServerOptions):
    """(policy, log) when --audit-policy-file and --audit-log-path are both given, as
    upstream audits only then; a bad policy file stops the start."""
    if opts.audit_policy_file is None or not opts.audit_log_path:
        return None
    try:
        policy = audit_policy.parse(opts.audit_policy_file.read_text())
    except OSError as e:
        raise ServerSetupError(f"--audit-policy-file {opts.audit_policy_file}: {e.strerror}") from None
    except audit_policy.PolicyError as e:
        raise ServerSetupError(f"--audit-policy-file {opts.audit_policy_file}: {e}") from None
    return policy, AuditLog(opts.audit_log_path, max_size_mb=opts.audit_log_maxsize,
                            max_backups=opts.audit_log_maxbackup, max_age_days=opts.audit_log_maxage)


def encryption_resolver(path: Path):
    """chain_for(key) from --encryption-provider-config; a bad file stops the start."""
    try:
        text = path.read_text()
    except OSError as e:
        raise ServerSetupError(f"--encryption-provider-config {path}: {e.strerror}") from None
    try:
        entries = encryption_config.parse(text)
    except encryption_config.EncryptionConfigError as e:
        raise ServerSetupError(f"--encryption-provider-config {path}: {e}") from None
    return encryption_config.resolver(entries, encryption_config.group_resources(catalogue.load().resources()))


def admission_plugin_names(enabled: list[str], disabled: list[str], defaults: tuple[str, ...]) -> list[str]:
    """As kube-apiserver: the default set, plus --enable-admission-plugins, minus --disable-admission-plugins."""
    names = [*defaults, *(n for n in enabled if n not in defaults)]
    return [n for n in names if n not in set(disabled)]


def build_admission(opts: ServerOptions, registries, timings: tuple = (None, None)):
    """timings: the per-plugin and per-webhook histograms (None: untimed)."""
    names = admission_plugin_names(opts.enable_admission_plugins, opts.disable_admission_plugins, DEFAULT_PLUGINS)
    settings = AdmissionSettings(not_ready_toleration_seconds=opts.default_not_ready_toleration_seconds,
                                 unreachable_toleration_seconds=opts.default_unreachable_toleration_seconds)
    try:
        return build_chain(names, registries, settings, controller_timings=timings[0], webhook_timings=timings[1])
    except ValueError as e:  # an unknown plugin name: refuse to start, as upstream
        raise ServerSetupError(str(e)) from None


async def build_app(opts: ServerOptions, store, creds: Credentials, port: int, *, metrics: bool = True,
                    audit: tuple | None = None, worker: int | None = None):
    """Everything above the store: registries, defaults, admission, auth, the ASGI app.
    `metrics=False` (benchmarks only) leaves requests uncounted and /metrics unserved;
    `worker`: this process's index among the server's workers (a label on its metrics)."""
    settings = RegistrySettings(service_cluster_ip_range=opts.service_cluster_ip_range,
                                service_node_port_range="%d-%d" % opts.service_node_port_range)
    registries = Registries(store, catalogue.load(), settings)
    await repair_once(registries)  # cluster IPs of a store written before IPAddresses, leaks of a crash
    await ensure_defaults(registries, kubernetes_service_ip=opts.first_service_ip,
                          apiserver_ip=opts.apiserver_ip, apiserver_port=port,
                          endpoints_reconciled=opts.endpoint_reconciler_type == "lease")
    # what nodes joining with a bootstrap token read first (anonymously)
    await publish_cluster_info(registries, server_url(opts.advertise_address or client_host(opts.bind_address), port),
                               creds.pki.ca_cert.read_bytes())
    await CRDController(registries, registries.catalogue).start()  # serves custom resources
    registries.catalogue.set_extension("metrics.k8s.io", METRICS_RESOURCES)  # discovery of kubectl top's API
    # apiserver_admission_*: (step, controller, webhook) histograms; none when metrics are off
    admission_timings = (step_histogram(), controller_histogram(), webhook_histogram()) if metrics else ()
    mutate, validate = build_admission(opts, registries, admission_timings[1:] or (None, None))
    # The bootstrap roles exist whatever the authorization mode, as upstream.
    await ensure_bootstrap_policy(registries)
    rbac = RBACAuthorizer(registries)
    # the cluster page's token only reads, in every mode (AlwaysAllow included)
    authorizer = PageViewerLimit(ModeAuthorizer(parse_modes(",".join(opts.authorization_mode)), rbac=rbac,
                                                node=NodeAuthorizer(registries)))
    validate = escalation_guard(validate, authorizer, rbac)  # no granting more than one holds
    mutate, validate = certificate_guards(mutate, validate, authorizer)  # CSR requester, approve/sign verbs
    if admission_timings:
        steps = admission_timings[0]
        mutate, validate = timed(mutate, "admit", steps), timed(validate, "validate", steps)
    # Auth APIs (reviews, serviceaccounts/token, OIDC discovery); the chain it returns also accepts SA JWTs.
    authenticator = install_auth_apis(registries, creds.tokens, authorizer, creds.pki.sa_key, creds.pki.sa_pub,
                                      client_ca_file=client_ca_file(opts, creds),
                                      max_token_expiration=opts.service_account_max_token_expiration)
    flowcontrol = None
    if opts.enable_priority_and_fairness:   # after ensure_defaults: the mandatory configuration is there
        flowcontrol = FlowControl(registries, opts.max_requests_inflight + opts.max_mutating_requests_inflight)
        await flowcontrol.start()
    api_metrics = _api_metrics(store, admission_timings, worker) if metrics else None
    if api_metrics is not None and flowcontrol is not None:
        api_metrics.extra.extend(flowcontrol.metrics.families())
    app = create_app(
        registries=registries,
        authenticator=authenticator,
        authorizer=authorizer,
        # pods/log, exec, attach, portforward go to the node agents
        extra_routes=[*nodeproxy_routes(registries, authenticator, authorizer, pki=creds.pki,
                                        client_cert=kubelet_client_pair(opts),
                                        kubelet_ca=str(opts.kubelet_certificate_authority)
                                        if opts.kubelet_certificate_authority else None),
                      *oidc_routes(authenticator, authenticator.service_accounts.signer, authenticator.issuer)],
        admission_mutate=mutate,
        admission_validate=validate,
        anonymous_paths=(CLUSTER_INFO_PATH,),
        metrics=api_metrics,
        audit=audit,
        flowcontrol=flowcontrol,
    )
    app.state.registries = registries   # for the endpoint reconciler started beside it
    app.state.flowcontrol = flowcontrol  # its watches end before the store closes
    # What start-up built (schemas, catalogue, routes) lives as long as the server: keep
    # it out of the collector's way, so full collections walk only what requests made.
    gc.collect()
    gc.freeze()
    # The watch cache holds every object (many dicts and lists each): with the default
    # thresholds, collections of it cost about a fifth of a create. Young cycles are
    # still found at every (rarer) young collection. Measured with profile_create --https.
    gc.set_threshold(50_000, 20, 20)
    return app


def kubelet_client_pair(opts: ServerOptions) -> tuple[str, str] | None:
    """--kubelet-client-certificate/-key when both are given (else nodeproxy issues its own)."""
    if opts.kubelet_client_certificate and opts.kubelet_client_key:
        return str(opts.kubelet_client_certificate), str(opts.kubelet_client_key)
    return None


def client_ca_file(opts: ServerOptions, creds: Credentials):
    """What client certificates are verified against: --client-ca-file, else the cluster CA."""
    return opts.client_ca_file or creds.pki.ca_cert


def _api_metrics(store, admission_timings: tuple, worker: int | None = None) -> ApiMetrics:
    backend = getattr(store, "backend", None)
    timings = backend.timings if isinstance(backend, InstrumentedStore) else None
    counts = store.object_counts if isinstance(store, CachedStore) else None
    return ApiMetrics(storage=timings, object_counts=counts, admission=admission_timings,
                      const_labels={"worker": str(worker)} if worker is not None else None)


async def start_endpoint_reconciler(opts: ServerOptions, app, port: int):
    """The `kubernetes` Service's endpoints list every live API server (leases in kube-system)."""
    if opts.endpoint_reconciler_type != "lease":
        return None
    reconciler = EndpointReconciler(app.state.registries, ServerAddress(opts.apiserver_ip, port),
                                    lease_duration_s=opts.identity_lease_duration_seconds,
                                    renew_interval_s=opts.identity_lease_renew_interval_seconds)
    await reconciler.start()
    return reconciler


@dataclass
class WorkerRole:
    """One of several API-server processes (workers.py) on a socket and credentials the parent made.
    Worker 0 does what must happen once (compaction, the endpoint reconciler)."""

    index: int
    sock: socket.socket
    creds: Credentials

    @property
    def first(self) -> bool:
        return self.index == 0


@dataclass
class RunningServer:
    """What `pocketkube up` and tests need once the server listens."""

    opts: ServerOptions
    creds: Credentials
    port: int

    @property
    def url(self) -> str:
        return self.creds.url


def listen_with_credentials(opts: ServerOptions, sockets: int = 1) -> tuple[list[socket.socket], Credentials]:
    """The listening socket(s) (several: sharing the port, one per worker), then the PKI,
    tokens and admin kubeconfig naming the port."""
    private_dir(opts.data_dir)
    socks = [bind_socket(opts.bind_address, opts.secure_port, reuse_port=sockets > 1)]
    port = socks[0].getsockname()[1]
    try:
        socks.extend(bind_socket(opts.bind_address, port, reuse_port=True) for _ in range(sockets - 1))
        creds = ensure_credentials(opts.data_dir, port=port, bind_address=opts.bind_address,
                                   advertise_address=opts.advertise_address,
                                   first_service_ip=opts.first_service_ip,
                                   token_auth_file=opts.token_auth_file)
        if kubelet_client_pair(opts) is None:
            kubelet_client_cert(creds.pki)   # issued here, before workers would race to issue it
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks, creds


async def serve(opts: ServerOptions, shutdown: asyncio.Event,
                on_ready: Callable[[RunningServer], None] | None = None, *, worker: WorkerRole | None = None) -> None:
    """Run until `shutdown` is set. Raises ServerSetupError with a plain message on bad set-up.
    worker: this process is one of several (workers.py) sharing a socket and the store."""
    if worker is not None:
        sock, creds = worker.sock, worker.creds
    else:
        (sock,), creds = listen_with_credentials(opts)
    port = sock.getsockname()[1]
    once = worker is None or worker.first   # what runs once per server, not once per worker
    try:
        audit = build_audit(opts)
        store = build_store(opts, shared=worker is not None, compacts=once)
    except BaseException:
        sock.close()
        raise
    # Listen at once, behind a gate that answers health checks (and 503s) until the
    # bootstrap has reached the store: a server started before etcd keeps retrying.
    gate = StartupGate(store)
    reconciler = flowcontrol = None
    ip_repair: IPRepairLoop | None = None
    try:
        running = RunningServer(opts, creds, port)

        async def bring_up() -> None:
            nonlocal reconciler, ip_repair, flowcontrol
            app = await build_until_ready(lambda: build_app(opts, store, creds, port, audit=audit,
                                                            worker=worker.index if worker else None), shutdown)
            if app is None:
                return
            if once:   # one per server, not per worker
                reconciler = await start_endpoint_reconciler(opts, app, port)
                ip_repair = IPRepairLoop(app.state.registries)
                ip_repair.start()
            flowcontrol = app.state.flowcontrol
            gate.open(app)
            log.info("serving url=%s kubeconfig=%s", creds.url, creds.admin_kubeconfig)
            if on_ready is not None:
                on_ready(running)

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
            # stop serving; the error is raised below once the HTTP server has shut down.
            if not task.cancelled() and task.exception() is not None:
                log.error("start-up failed: %s", task.exception())
                shutdown.set()
        starter.add_done_callback(on_started)
        if worker is not None:
            # A worker serves once its app is built, so that no client (nor a readiness probe) meets
            # one worker ready and the next still starting; a store that stays away makes it serve
            # behind the gate after a while, as a lone server does at once.
            await asyncio.wait([starter], timeout=WORKER_JOIN_TIMEOUT_S)
        try:
            if not starter.done() or (not shutdown.is_set() and starter.exception() is None):
                await serving.serve_app(gate, sock, certfile=creds.pki.cert, keyfile=creds.pki.key,
                                        graceful_timeout=opts.shutdown_timeout, shutdown_trigger=shutdown_trigger,
                                        stopping=shutdown, client_ca_file=client_ca_file(opts, creds),
                                        limits=opts.connection_limits)
        finally:
            starter.cancel()
            with contextlib.suppress(BaseException):
                await starter
            if ip_repair is not None:
                await ip_repair.stop()
        if starter.done() and not starter.cancelled() and starter.exception() is not None:
            raise starter.exception()
    finally:
        if flowcontrol is not None:
            await flowcontrol.stop()
        with contextlib.suppress(Exception):
            await store.close()
        if audit is not None:
            audit[1].close()
        # the HTTP server closes the fd it was handed; closing again must not fail the shutdown.
        with contextlib.suppress(OSError):
            sock.close()
    log.info("stopped")


def install_signal_handlers(shutdown: asyncio.Event, signals=(signal.SIGINT, signal.SIGTERM)) -> None:
    """First SIGINT/SIGTERM: graceful stop. A second one: stop now."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if shutdown.is_set():
            # At once: no cleanup that could hang or fail half-way (and print its traceback);
            # what was acknowledged is already in the store.
            log.warning("second signal %s: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(1)
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        shutdown.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)


def configure_logging(level: int = logging.INFO) -> None:
    """One event per line: time, level, component, message."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%Y-%m-%dT%H:%M:%S")
