"""`pocketkube controllers`: the command line of the scheduler + controller manager."""
from __future__ import annotations

import argparse
import asyncio
import logging

from kubeclient.metrics import serve_metrics
from kubeclient.durations import duration  # noqa: F401 - also imported from here by tests
from kubeclient.process import configure_logging, run_until_signalled

from .context import Options
from .manager import run_controllers
from .registry import CONTROLLERS, select


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pocketkube controllers", description="scheduler and controller manager")
    p.add_argument("--kubeconfig", help="kubeconfig of the API server to drive")
    p.add_argument("--controllers", default="*",
                   help=f"'*' for all, 'name' to add, '-name' to remove; known: {', '.join(CONTROLLERS)}")
    p.add_argument("--leader-elect", default=True, type=lambda s: s.lower() not in ("false", "0", "no"))
    p.add_argument("--leader-elect-lease-duration", type=duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=duration, default=2.0)
    p.add_argument("--leader-elect-resource-name", default="kube-controller-manager")
    p.add_argument("--leader-elect-resource-namespace", default="kube-system")
    p.add_argument("--identity", help="leader-election identity (default: host_pid_random)")
    p.add_argument("--use-service-account-credentials", default=False, nargs="?", const=True,
                   type=lambda s: s.lower() not in ("false", "0", "no"),
                   help="run each controller with a ServiceAccount of its own in kube-system (a token from "
                        "TokenRequest, renewed), as RBAC's system:controller:* roles expect; off: every controller "
                        "writes as this process's own credentials, which then need the rights of them all")
    p.add_argument("--node-monitor-grace-period", type=duration, default=40.0)
    p.add_argument("--node-monitor-period", type=duration, default=5.0)
    p.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                   help="eviction delay for pods with no NoExecute toleration of their node's taint")
    p.add_argument("--terminated-pod-gc-threshold", type=int, default=12500)
    p.add_argument("--pod-gc-period", type=duration, default=20.0)
    p.add_argument("--root-ca-file", help="CA bundle to publish as kube-root-ca.crt (default: the kubeconfig's)")
    p.add_argument("--cluster-signing-cert-file", help="CA certificate csrsigning issues certificates with")
    p.add_argument("--cluster-signing-key-file", help="its private key")
    p.add_argument("--cluster-signing-duration", type=duration, default=365 * 24 * 3600.0,
                   help="the longest validity of an issued certificate (default 8760h)")
    p.add_argument("--min-resync-period", type=duration, default=300.0)
    p.add_argument("--local-path-dir", help="run the local-path provisioner with volumes under this directory "
                                            "(on the host of the node it serves)")
    p.add_argument("--horizontal-pod-autoscaler-sync-period", type=duration, default=15.0,
                   help="how often each HorizontalPodAutoscaler is evaluated (default 15s)")
    p.add_argument("--metrics-bind-address", default="",
                   help="host:port serving GET /metrics over plain HTTP, e.g. 127.0.0.1:10257 (port 0: any free "
                        "one, logged); empty (the default): not served")
    p.add_argument("-v", "--v", type=int, default=0, help="log verbosity")
    return p


def options_from(ns: argparse.Namespace) -> Options:
    return Options(node_monitor_grace_period=ns.node_monitor_grace_period,
                   node_monitor_period=ns.node_monitor_period,
                   default_toleration_seconds=ns.default_unreachable_toleration_seconds,
                   terminated_pod_gc_threshold=ns.terminated_pod_gc_threshold, pod_gc_period=ns.pod_gc_period,
                   root_ca_file=ns.root_ca_file, resync_period=ns.min_resync_period,
                   cluster_signing_cert_file=ns.cluster_signing_cert_file,
                   cluster_signing_key_file=ns.cluster_signing_key_file,
                   cluster_signing_duration=ns.cluster_signing_duration,
                   extra={"hpa_sync_period": ns.horizontal_pod_autoscaler_sync_period,
                          **({"local_path_dir": ns.local_path_dir} if ns.local_path_dir else {})})


async def _main(ns: argparse.Namespace) -> int:
    if ns.metrics_bind_address:
        server = await serve_metrics(ns.metrics_bind_address)
        host, port = server.sockets[0].getsockname()[:2]
        logging.getLogger("controllers").info("serving metrics on http://%s:%d/metrics", host, port)
    await run_until_signalled(run_controllers(
        ns.kubeconfig, [ns.controllers], options=options_from(ns), leader_elect=ns.leader_elect,
        identity=ns.identity, lease_duration=ns.leader_elect_lease_duration,
        renew_deadline=ns.leader_elect_renew_deadline, retry_period=ns.leader_elect_retry_period,
        lease_name=ns.leader_elect_resource_name, lease_namespace=ns.leader_elect_resource_namespace,
        service_account_credentials=ns.use_service_account_credentials))
    return 0


def run(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        select(ns.controllers)
    except ValueError as e:
        parser().error(str(e))
    configure_logging(debug=ns.v >= 4)
    return asyncio.run(_main(ns))
