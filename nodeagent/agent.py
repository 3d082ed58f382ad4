"""The node agent: join the cluster as a Node and run the pods bound to it.

`run_agent` is the async entry used by `pocketkube up` (in-process) and by
`pocketkube nodeagent` (through nodeagent.main).
"""

from __future__ import annotations

import asyncio
import logging
import os

from kubeclient import ApiClient, EventRecorder
from kubeclient.process import run_together

from . import hostinfo
from .eviction import EvictionManager
from .eviction_policy import DEFAULT_EVICTION_HARD, MEMORY_AVAILABLE, parse_eviction_hard
from .node import NodeReporter
from .pods.context import AgentContext, ApiSources
from .pods.manager import PodManager
from .runtime import labels as L
from .runtime import leftovers
from .runtime.podman import Podman, podman_env
from .staticpods import StaticComponent
from .staticpods.mirror import MirrorPods

log = logging.getLogger(__name__)

DEFAULT_PORT = 10250


def default_root(node_name: str) -> str:
    return os.path.join("/var/lib/pocketkube/nodeagent", node_name)


async def run_agent(kubeconfig: str, node_name: str, *, root_dir: str | None = None,
                    port: int = DEFAULT_PORT, address: str = "", host_ip: str | None = None,
                    labels: dict[str, str] | None = None, serve_api: bool = True,
                    ready: asyncio.Event | None = None, require_client_cert: bool = True,
                    authorization_mode: str = "Webhook",
                    cluster_dns: list[str] | None = None, cluster_domain: str = "cluster.local",
                    static_pods: list[StaticComponent] | None = None,
                    eviction_hard: str = DEFAULT_EVICTION_HARD, reserved_memory: int = 0,
                    housekeeping_interval: float = 10.0, pressure_transition_period: float = 300.0,
                    orphan_sweep_period: float = 30.0,
                    rotate_certificates: bool = False, rotate_server_certificates: bool = False,
                    seccomp_default: bool = True) -> None:
    """Run until cancelled.

    `static_pods` are the components running on this node beside the agent (what
    `pocketkube up` starts): the agent shows each as a mirror pod in kube-system and
    serves its log through the kubelet API, as the kubelet does for static pods.

    The kubelet API authenticates callers as the kubelet does (a certificate of the
    cluster CA, the one the kubeconfig trusts, or a bearer token the API server reviews;
    anonymous only without `require_client_cert`, i.e. --anonymous-auth) and asks the
    API server whether they may (SubjectAccessReview, `authorization_mode` Webhook).

    `rotate_server_certificates` (the kubelet's flag): the kubelet API serves a certificate
    of the cluster CA obtained through a CSR once the Node is registered, renewed before it
    expires (serving_cert.py); without it, a self-signed one."""
    root_dir = root_dir or default_root(node_name)
    os.makedirs(root_dir, exist_ok=True)
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
    host_ip = host_ip or hostinfo.host_ip()
    address = address or host_ip    # the kubelet API on the node's address, not every address
    sock_dir = "/run/pocketkube"
    os.makedirs(sock_dir, exist_ok=True)
    leftovers.sweep(sock_dir)   # what agents that were killed left there
    client = ApiClient.from_kubeconfig(kubeconfig, user_agent=f"pocketkube-nodeagent/{node_name}")
    # Two clusters on one host may both have a node of this name: the Podman service, its
    # socket and every Podman pod are this cluster's node's own.
    cluster = L.cluster_identity(client.config.ca_pem, client.config.server)
    podman = Podman(os.path.join(sock_dir, f"podman-{node_name}-{cluster}.sock"),
                    owner=L.owner_labels(node_name, cluster))
    server = None
    # the kubelet's events: source component "kubelet", host the node; three per container start
    recorder = EventRecorder(client, "kubelet", node_name, queue_size=10000)
    try:
        await podman.start_service()
        manager_box: dict = {}
        mirrors = MirrorPods(client, node_name, static_pods or [], host_ip=host_ip,
                             node_uid=lambda: manager_box["reporter"].node_uid)
        if serve_api:
            from .server.app import KubeletServer
            from .server.auth import KubeletAuth
            server = KubeletServer(podman, lambda ns, name: manager_box["m"].worker_for(ns, name)
                                   if "m" in manager_box else None,
                                   node_name=node_name, address=address, port=port, root_dir=root_dir,
                                   client_ca_pem=client.config.ca_pem,
                                   auth=KubeletAuth(client, node_name, anonymous=not require_client_cert,
                                                    authorization_mode=authorization_mode,
                                                    client_ca_pem=client.config.ca_pem),
                                   list_pods=lambda: [w.pod for w in manager_box["m"].workers.values()]
                                   if "m" in manager_box else [],
                                   static_pod=mirrors.component_for)
            port = server.bind()
        thresholds = parse_eviction_hard(eviction_hard)
        memory = hostinfo.memory_bytes()
        eviction_memory = max([t.value(memory) for t in thresholds if t.signal == MEMORY_AVAILABLE], default=0)
        reporter = NodeReporter(client, podman, node_name, host_ip=host_ip, port=port, root_dir=root_dir,
                                labels=labels, reserved_memory=reserved_memory, eviction_memory=eviction_memory)
        manager_box["reporter"] = reporter
        await reporter.register()
        serving = None
        if server is not None:
            if rotate_server_certificates:   # the CSR names the addresses the Node now reports
                from .serving_cert import ServingCertificate
                serving = ServingCertificate(client, node_name, [host_ip, node_name], os.path.join(root_dir, "pki"))
                await server.start(*await serving.ensure())
            else:
                await server.start()
        ctx = AgentContext(client=client, podman=podman, recorder=recorder,
                           node_name=node_name, host_ip=host_ip, root_dir=root_dir,
                           sources=ApiSources(client), node_allocatable=reporter.allocatable,
                           cluster_dns=list(cluster_dns or []), cluster_domain=cluster_domain,
                           seccomp_default=seccomp_default)
        manager = PodManager(ctx, sweep_period=orphan_sweep_period)
        manager_box["m"] = manager
        log.info("node agent %s running (host %s, kubelet port %s)", node_name, host_ip, port)
        if ready is not None:
            ready.set()
        evictions = EvictionManager(podman, lambda: list(manager.workers.values()), recorder, node_name,
                                    thresholds=thresholds, pods_capacity=memory - reserved_memory,
                                    set_pressure=reporter.set_memory_pressure, interval=housekeeping_interval,
                                    transition_period=pressure_transition_period)
        loops = [reporter.run(), manager.run(), evictions.run(), podman.supervise()] + ([mirrors.run()] if mirrors.components else [])
        if rotate_certificates and client.config.client_cert_pem:
            from .bootstrap import rotate_client_certificate
            loops.append(rotate_client_certificate(client, kubeconfig, node_name))
        if serving is not None:
            loops.append(serving.rotate(server.reload_certificate))
        await run_together(*loops)
    finally:
        if server is not None:
            await server.stop()
        await recorder.close()
        await client.close()
        await podman.close()
