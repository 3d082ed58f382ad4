"""`pocketkube nodeagent --kubeconfig K --node-name N`: flags named as the kubelet's;
`--simulate N` plays N simulated nodes instead (simulated.py)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from kubeclient.durations import duration
from kubeclient.process import configure_logging, run_until_signalled

from kubeclient import ApiClient

from .agent import DEFAULT_PORT, run_agent
from .eviction_policy import DEFAULT_EVICTION_HARD, memory_bytes, parse_eviction_hard, parse_reserved
from .simulated import run_simulated
from .simulated_pods import DEFAULT_POD_CIDR, SIMULATED_TAINT, node_pod_cidr


def _flag_bool(text: str) -> bool:
    """A boolean flag's value as the kubelet takes it (--seccomp-default=false)."""
    low = text.lower()
    if low in ("true", "t", "1"):
        return True
    if low in ("false", "f", "0"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pocketkube nodeagent",
                                description="Join this machine to a cluster as a Node; run its pods under Podman.")
    p.add_argument("--kubeconfig", required=True, help="credentials of this node agent")
    p.add_argument("--bootstrap-kubeconfig", default=None,
                   help="credentials (a bootstrap token) to obtain a client certificate with when --kubeconfig is "
                        "missing or its certificate nears expiry; --kubeconfig is then written")
    p.add_argument("--node-name", default=socket.gethostname().lower(), help="the Node's name")
    p.add_argument("--root-dir", default=None, help="where pod volumes live (default /var/lib/pocketkube/nodeagent/<node>)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="kubelet API port (0: any free port)")
    p.add_argument("--address", default="",
                   help="kubelet API listen address (default: the node's address; 0.0.0.0 for every address)")
    p.add_argument("--node-ip", default=None, help="the node's InternalIP (default: the default route's source)")
    p.add_argument("--node-labels", default="", help="extra labels, k=v,k2=v2")
    p.add_argument("--rotate-certificates", action="store_true",
                   help="ask for a new client certificate (a CSR) when the kubeconfig's nears expiry, and use it")
    p.add_argument("--rotate-server-certificates", action="store_true",
                   help="serve the kubelet API with a certificate of the cluster CA asked for through a CSR "
                        "(signer kubernetes.io/kubelet-serving), renewed before it expires; default: self-signed")
    p.add_argument("--anonymous-auth", action="store_true",
                   help="let callers with neither a client certificate nor a token in, as system:anonymous")
    p.add_argument("--authorization-mode", choices=["Webhook", "AlwaysAllow"], default="Webhook",
                   help="Webhook (default): ask the API server (SubjectAccessReview on nodes/<subresource>) "
                        "whether a caller may use the kubelet API; AlwaysAllow: any authenticated caller may")
    p.add_argument("--cluster-dns", default="",
                   help="comma-separated DNS server addresses for pods with dnsPolicy ClusterFirst")
    p.add_argument("--cluster-domain", default="cluster.local", help="the cluster's DNS domain")
    p.add_argument("--seccomp-default", type=_flag_bool, nargs="?", const=True, default=True, metavar="BOOL",
                   help="run containers that name no seccompProfile with RuntimeDefault, the container "
                        "runtime's filter (default true; false: Unconfined, as upstream's kubelet without "
                        "the flag, each container start ~30 ms faster)")
    p.add_argument("--eviction-hard", default=DEFAULT_EVICTION_HARD,
                   help="hard eviction thresholds, e.g. memory.available<100Mi (memory signals are acted on)")
    p.add_argument("--eviction-pressure-transition-period", type=duration, default=300.0,
                   help="how long a pressure condition stays after its threshold stops being met (default 5m0s)")
    p.add_argument("--kube-reserved", default="", help="resources reserved for Kubernetes daemons, e.g. memory=256Mi")
    p.add_argument("--system-reserved", default="", help="resources reserved for the system, e.g. memory=1Gi")
    p.add_argument("--housekeeping-interval", type=duration, default=10.0,
                   help="how often resource usage is sampled for eviction decisions (default 10s)")
    sim = p.add_argument_group("simulated nodes", "try pocketkube at scale: one process plays N node agents "
                               "whose pods run nowhere (KWOK's default stages: Running and Ready with an IP at once)")
    sim.add_argument("--simulate", type=int, default=0, metavar="N",
                     help="register N simulated nodes instead of running pods on this machine")
    sim.add_argument("--simulate-prefix", default="sim-node-", help="simulated node names: PREFIX0, PREFIX1, ...")
    sim.add_argument("--simulate-taint", action="store_true",
                     help=f"taint simulated nodes {SIMULATED_TAINT['key']}=true:NoSchedule, so that only pods "
                          "tolerating it land there")
    sim.add_argument("--simulate-cpu", default="32", help="each simulated node's cpu capacity")
    sim.add_argument("--simulate-memory", default="256Gi", help="each simulated node's memory capacity")
    sim.add_argument("--simulate-pods", default="110", help="each simulated node's pod capacity")
    sim.add_argument("--simulate-pod-cidr", default=DEFAULT_POD_CIDR,
                     help="the range each simulated node's /24 pod CIDR is taken from")
    p.add_argument("--orphan-sweep-period", type=duration, default=30.0,
                   help="how often Podman pods of this node and cluster with no pod behind them are removed "
                        "(default 30s)")
    p.add_argument("-v", "--verbose", action="store_true")
    ns = p.parse_args(argv)
    if ns.simulate < 0:
        p.error("--simulate must be 0 or more")
    return ns


async def _simulate(ns: argparse.Namespace, labels: dict) -> None:
    async with ApiClient.from_kubeconfig(ns.kubeconfig) as client:
        await run_simulated(client, ns.simulate, ns.simulate_prefix, taint=ns.simulate_taint, labels=labels,
                            cpu=ns.simulate_cpu, memory=ns.simulate_memory, pods=ns.simulate_pods,
                            cluster_cidr=ns.simulate_pod_cidr)


def run(argv: list[str]) -> int:
    ns = parse(argv)
    configure_logging(debug=ns.verbose)
    try:
        parse_eviction_hard(ns.eviction_hard)
        reserved = memory_bytes(parse_reserved(ns.kube_reserved)) + memory_bytes(parse_reserved(ns.system_reserved))
    except ValueError as e:
        print(f"pocketkube nodeagent: {e}", file=sys.stderr)
        return 2
    labels = dict(kv.split("=", 1) for kv in ns.node_labels.split(",") if "=" in kv)
    if ns.simulate:
        try:
            node_pod_cidr(ns.simulate_pod_cidr, ns.simulate - 1)
        except ValueError as e:
            print(f"pocketkube nodeagent: --simulate-pod-cidr: {e}", file=sys.stderr)
            return 2
        asyncio.run(run_until_signalled(_simulate(ns, labels)))
        return 0
    if ns.bootstrap_kubeconfig:
        from .bootstrap import bootstrap_kubeconfig, needs_certificate
        if needs_certificate(ns.kubeconfig):
            try:
                asyncio.run(bootstrap_kubeconfig(ns.bootstrap_kubeconfig, ns.kubeconfig, ns.node_name))
            except (RuntimeError, OSError, ValueError) as e:
                print(f"pocketkube nodeagent: {e}", file=sys.stderr)
                return 1
    # SIGTERM/SIGINT cancel the agent so it stops its podman service on the way out;
    # pods keep running (as with the kubelet) and are adopted by the next agent.
    try:
        asyncio.run(run_until_signalled(run_agent(
            ns.kubeconfig, ns.node_name, root_dir=ns.root_dir, port=ns.port, address=ns.address,
            host_ip=ns.node_ip, labels=labels, require_client_cert=not ns.anonymous_auth,
            authorization_mode=ns.authorization_mode, rotate_certificates=ns.rotate_certificates,
            rotate_server_certificates=ns.rotate_server_certificates,
            cluster_dns=[a for a in ns.cluster_dns.split(",") if a], cluster_domain=ns.cluster_domain,
            eviction_hard=ns.eviction_hard, reserved_memory=reserved, housekeeping_interval=ns.housekeeping_interval,
            orphan_sweep_period=ns.orphan_sweep_period, seccomp_default=ns.seccomp_default,
            pressure_transition_period=ns.eviction_pressure_transition_period)))
    except KeyboardInterrupt:
        pass
    except Exception as e:
        if not getattr(e, "plain_message", False):
            raise
        print(f"pocketkube nodeagent: {e}", file=sys.stderr)   # its port or Podman socket is taken
        return 1
    return 0

