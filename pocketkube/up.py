"""`pocketkube up`: the whole cluster in one process (the embedded default).

The API server starts first; once it listens, the controllers and one node
agent start in the same event loop, each with its own credentials (the controllers:
a token minted into DATA_DIR/tokens.csv and a kubeconfig under DATA_DIR/kubeconfigs; the
node agent: a client certificate it asks for with a bootstrap token, as a joining node does,
and a serving certificate through a CSR, which the API server verifies: it runs with
--kubelet-certificate-authority set to the cluster CA unless told otherwise),
talking to the server over HTTPS like any client would. Ctrl-C stops the
components first, then the server.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import os
import socket
import sys

from .network import add_network_flags, cluster_dns, network_on, start_network

log = logging.getLogger("pocketkube.up")


def add_up_flags(p: argparse.ArgumentParser) -> None:
    from apiserver.assembly.options import add_flags, add_worker_flags

    add_flags(p, default_data_dir="_output/local-up")
    add_worker_flags(p)
    p.add_argument("--no-controllers", action="store_true", help="do not run the scheduler and controllers")
    p.add_argument("--use-service-account-credentials", default=True,
                   type=lambda s: s.lower() not in ("false", "0", "no"),
                   help="run each controller with a ServiceAccount of its own, held to its system:controller:* "
                        "role (default true, as kubeadm sets it); false: every controller writes as "
                        "system:kube-controller-manager, put in the group pocketkube:shared-controller-credentials "
                        "that may write everything")
    p.add_argument("--no-nodeagent", action="store_true", help="do not run a node agent")
    p.add_argument("--node-name", default=None, help="name of the node agent's Node (default: the host name)")
    p.add_argument("--kubelet-port", type=int, default=10250, help="port of the node agent's kubelet API")
    p.add_argument("--metrics-bind-address", default="127.0.0.1:10257",
                   help="host:port serving GET /metrics (plain HTTP) for the in-process scheduler, controllers, "
                        "proxy and DNS, which share this process and so one set of series (default: loopback "
                        "only, at the controller manager's upstream port; port 0: any free one; empty: not "
                        "served). The node agent serves its own on its kubelet port.")
    add_network_flags(p)


async def _serve_component_metrics(address: str) -> None:
    from kubeclient.metrics import serve_metrics

    try:
        server = await serve_metrics(address)
    except OSError as e:   # the port is taken (another cluster on this host): the rest still runs
        log.warning("not serving the components' metrics on %s: %s", address, e)
        return
    host, port = server.sockets[0].getsockname()[:2]
    print(f"Metrics of the scheduler, controllers, proxy and DNS: http://{host}:{port}/metrics\n", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()


def default_node_name() -> str:
    return (socket.gethostname() or "pocketkube-node").lower()


async def _supervise(name: str, coro) -> None:
    """Run a component; its failure is logged, and does not take the API server down."""
    try:
        await coro
        log.info("component %s exited", name)
    except asyncio.CancelledError:
        raise
    except Exception as e:
        if getattr(e, "plain_message", False):   # a set-up error (its port taken): the text says it all
            log.error("component %s cannot run: %s", name, e)
            return
        log.exception("component %s failed", name)


def _start_components(ns: argparse.Namespace, running, logs) -> list[asyncio.Task]:
    tasks = []
    creds = running.creds
    if ns.metrics_bind_address:
        tasks.append(asyncio.create_task(_serve_component_metrics(ns.metrics_bind_address), name="metrics"))
    if not ns.no_controllers:
        from controllers.context import Options
        from controllers.manager import run_controllers

        from apiserver.assembly.rbac_component_roles import SHARED_CONTROLLER_CREDENTIALS

        per_controller = ns.use_service_account_credentials
        kc = creds.kubeconfig_for("system:kube-controller-manager",
                                  [] if per_controller else [SHARED_CONTROLLER_CREDENTIALS])
        # the local-path provisioner deletes volume directories itself: only beside our own node agent
        extra = {} if ns.no_nodeagent else {"local_path_dir": str(running.opts.data_dir.resolve() / "local-path")}
        pki = creds.pki   # csrsigning issues with the cluster CA, as kubeadm points the controller manager at it
        tasks.append(asyncio.create_task(_supervise("controllers", run_controllers(str(kc), options=Options(
            cluster_signing_cert_file=str(pki.ca_cert), cluster_signing_key_file=str(pki.ca_key),
            extra=extra), service_account_credentials=per_controller)), name="controllers"))
    if not ns.no_nodeagent:
        from nodeagent.agent import run_agent

        from .controlplane import components, pocketkube_image

        node = ns.node_name or default_node_name()
        root = running.opts.data_dir.resolve() / "nodeagent"
        by_name: dict[str, asyncio.Task] = {}
        static = components(ns, running, logs, by_name, network=network_on(ns), dns=not ns.no_dns,
                            image=pocketkube_image())
        settings = dict(root_dir=str(root), port=ns.kubelet_port, cluster_dns=cluster_dns(ns, running),
                        cluster_domain=ns.cluster_domain, static_pods=static)
        if ns.no_controllers:   # nobody would sign a certificate request: a token of its own
            kc = creds.kubeconfig_for(f"system:node:{node}", ["system:nodes"])
            agent = run_agent(str(kc), node, **settings)
        else:   # as a joining node does: a bootstrap token, then its own certificate through a CSR
            agent = _bootstrapped_agent(creds, node, root, settings)
        tasks.append(asyncio.create_task(_supervise("nodeagent", agent), name="nodeagent"))
        tasks.extend(start_network(ns, running, node, _supervise))
        by_name.update({t.get_name(): t for t in tasks})
    return tasks


async def _bootstrapped_agent(creds, node: str, root, settings: dict) -> None:
    """The node agent of `up`, on the path every joining node takes (`pocketkube join`): its
    kubeconfig holds a client certificate obtained with a bootstrap token through a
    CertificateSigningRequest (approved and signed by the controllers beside it), renewed
    before it expires; made once, reused on restart."""
    import datetime as dt

    import yaml

    from kubeclient import ApiClient, load_kubeconfig
    from kubeclient.resources import SECRETS
    from nodeagent.agent import run_agent
    from nodeagent.bootstrap import bootstrap_kubeconfig, needs_certificate

    from .join import new_token, token_secret

    kubeconfig = root / "kubelet.kubeconfig"
    if needs_certificate(str(kubeconfig)):
        token_id, secret = new_token()
        admin = ApiClient(load_kubeconfig(str(creds.admin_kubeconfig)), user_agent="pocketkube-up")
        try:
            await admin.create(SECRETS, token_secret(token_id, secret, 3600, dt.datetime.now(dt.timezone.utc)),
                               "kube-system")
        finally:
            await admin.close()
        bootstrap = root / "bootstrap-kubelet.kubeconfig"
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(bootstrap, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "tls-bootstrap",
                            "clusters": [{"name": "kubernetes", "cluster": {
                                "server": creds.url, "certificate-authority-data": base64.b64encode(
                                    creds.pki.ca_cert.read_bytes()).decode()}}],
                            "users": [{"name": "tls-bootstrap-token-user", "user": {"token": f"{token_id}.{secret}"}}],
                            "contexts": [{"name": "tls-bootstrap", "context": {
                                "cluster": "kubernetes", "user": "tls-bootstrap-token-user"}}]}, f)
        await bootstrap_kubeconfig(str(bootstrap), str(kubeconfig), node)
    await run_agent(str(kubeconfig), node, rotate_certificates=True, rotate_server_certificates=True, **settings)


def run_up(ns: argparse.Namespace) -> int:
    from apiserver.assembly.options import options_from_args
    from apiserver.assembly.server import (ServerSetupError, WorkerRole, configure_logging, install_signal_handlers,
                                           listen_with_credentials, serve)
    from apiserver.assembly.workers import HelperWorkers

    opts = options_from_args(ns)
    if not ns.no_controllers and opts.kubelet_certificate_authority is None:
        # node agents here serve certificates of the cluster CA (csrsigning issues them through
        # CSRs: its own node agent's, and those of nodes that `pocketkube join`): verify them
        opts.kubelet_certificate_authority = opts.data_dir / "pki" / "ca.crt"
    configure_logging()
    role = helpers = None
    if opts.workers > 1:
        # This process serves as worker 0 beside the components; workers 1.. are forked now,
        # before any thread or event loop exists here.
        try:
            socks, creds = listen_with_credentials(opts, sockets=opts.workers)
        except ServerSetupError as e:
            print(f"pocketkube up: {e}", file=sys.stderr)
            return 1
        role = WorkerRole(0, socks[0], creds)
        helpers = HelperWorkers(opts, socks, creds)
    from .componentlogs import install

    # each component's own log, served by the node agent as its mirror pod's log
    logs = install(str(opts.data_dir / "logs"))
    # One line per client request of the in-process components would drown the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    tasks: list[asyncio.Task] = []

    def on_ready(running) -> None:
        tasks.extend(_start_components(ns, running, logs))
        print(f"\npocketkube is up. Point kubectl at it with:\n\n"
              f"  export KUBECONFIG={running.creds.admin_kubeconfig.resolve()}\n\n"
              f"See the cluster live in a browser (a read-only view; the address holds its token):\n\n"
              f"  {running.creds.cluster_page_url()}\n", flush=True)

    async def main() -> None:
        signalled = asyncio.Event()        # set by SIGINT/SIGTERM
        server_shutdown = asyncio.Event()  # set once the components are gone
        install_signal_handlers(signalled)
        server = asyncio.create_task(serve(opts, server_shutdown, on_ready=on_ready, worker=role))
        stopping = asyncio.create_task(signalled.wait())
        await asyncio.wait({server, stopping}, return_when=asyncio.FIRST_COMPLETED)
        # Components go first, closing their connections, so the server's graceful
        # shutdown does not race clients that are still watching and retrying.
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        stopping.cancel()
        server_shutdown.set()
        if helpers is not None:
            helpers.stop_soon()
        await server

    try:
        asyncio.run(main())
    except ServerSetupError as e:
        print(f"pocketkube up: {e}", file=sys.stderr)
        return 1
    finally:
        if helpers is not None:
            helpers.stop()
    return 0
