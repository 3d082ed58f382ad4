"""The API server's command-line flags, named as kube-apiserver names them.

Parsing is pure (no I/O) so it is unit-tested; server.py turns the result into
a running process.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from apiserver.registry.settings import DEFAULT_NODE_PORTS, DEFAULT_SERVICE_CIDR


@dataclass
class ConnectionLimits:
    """How long a client may take, and how many connections it may hold (kube-apiserver's
    values where it has them: its http.Server's ReadHeaderTimeout, which also bounds the TLS
    handshake, and IdleTimeout)."""
    tls_handshake_timeout: float = 32.0
    request_header_timeout: float = 32.0
    idle_timeout: float = 90.0          # a keep-alive connection with no request open
    max_connections: int = 8192         # the process may open 20,000 files here
    max_connections_per_client: int = 4096   # per client address (every local component shares 127.0.0.1)


@dataclass
class ServerOptions:
    data_dir: Path
    secure_port: int = 6443
    bind_address: str = "127.0.0.1"
    advertise_address: str | None = None
    token_auth_file: Path | None = None
    client_ca_file: Path | None = None    # None: the cluster CA (DATA_DIR/pki/ca.crt)
    kubelet_client_certificate: Path | None = None   # None: issued from the cluster CA at first start
    kubelet_client_key: Path | None = None
    kubelet_certificate_authority: Path | None = None   # None: node agents' serving certs are not verified
    service_cluster_ip_range: str = DEFAULT_SERVICE_CIDR
    service_node_port_range: tuple[int, int] = (30000, 32767)
    etcd_servers: list[str] = field(default_factory=list)
    etcd_prefix: str = "/registry"
    etcd_cafile: Path | None = None
    etcd_certfile: Path | None = None
    etcd_keyfile: Path | None = None
    etcd_compaction_interval: float = 300.0   # seconds; 0 disables
    enable_admission_plugins: list[str] = field(default_factory=list)    # in addition to the defaults
    disable_admission_plugins: list[str] = field(default_factory=list)
    # DefaultTolerationSeconds: how long pods tolerate a not-ready / unreachable node.
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    authorization_mode: list[str] = field(default_factory=lambda: ["Node", "RBAC"])
    shutdown_timeout: float = 3.0             # seconds open streams get after SIGTERM
    # The kubernetes Service's endpoints (registry/endpoint_reconciler.py): "lease" or "none".
    endpoint_reconciler_type: str = "lease"
    identity_lease_duration_seconds: int = 15
    identity_lease_renew_interval_seconds: float = 10.0
    encryption_provider_config: Path | None = None   # EncryptionConfiguration: which resources, which keys
    # TokenRequests asking for longer get this (seconds; 0: no cap), as upstream
    service_account_max_token_expiration: int = 0
    audit_policy_file: Path | None = None
    audit_log_path: str = ""                  # "-" is standard output
    audit_log_maxage: int = 0                 # days
    audit_log_maxbackup: int = 0
    audit_log_maxsize: int = 0                # megabytes
    connection_limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    # API Priority and Fairness: seats shared by the priority levels are the sum of these two
    # (upstream 400 + 200 for a many-core server; see add_flags for ours)
    enable_priority_and_fairness: bool = True
    max_requests_inflight: int = 100
    max_mutating_requests_inflight: int = 50
    workers: int = 1                          # API-server processes on the one port (workers.py)

    @property
    def first_service_ip(self) -> str:
        return first_service_ip(self.service_cluster_ip_range)

    @property
    def apiserver_ip(self) -> str:
        """The address put in the kubernetes Service's Endpoints (what pods dial)."""
        if self.advertise_address:
            return self.advertise_address
        if self.bind_address in ("0.0.0.0", "::"):
            return "127.0.0.1"
        return self.bind_address


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(value: str) -> float:
    """A Go duration ("5m", "1h30m", "10s", "0") in seconds; a bare number is seconds."""
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(value):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(value) or not value:
        raise argparse.ArgumentTypeError(f"invalid duration {value!r} (want e.g. 5m, 30s, 1h)")
    return total


def parse_port_range(value: str) -> tuple[int, int]:
    """"30000-32767" (or "30000+2767", upstream's base+size form) as an inclusive pair."""
    m = re.fullmatch(r"\s*(\d+)\s*([-+])\s*(\d+)\s*", value)
    if not m:
        raise argparse.ArgumentTypeError(f"invalid port range {value!r} (want e.g. 30000-32767)")
    lo, hi = int(m.group(1)), int(m.group(3))
    if m.group(2) == "+":
        hi = lo + hi
    if not (0 < lo <= hi <= 65535):
        raise argparse.ArgumentTypeError(f"invalid port range {value!r}")
    return lo, hi


def parse_cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"invalid CIDR {value!r}: {e}") from None
    if net.num_addresses < 4:
        raise argparse.ArgumentTypeError(f"service CIDR {value!r} is too small")
    return str(net)


def first_service_ip(cidr: str) -> str:
    """The first usable address of the range: the `kubernetes` Service's clusterIP (10.96.0.1)."""
    return str(ipaddress.ip_network(cidr)[1])


def parse_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid IP address {value!r}") from None


def parse_max_token_expiration(value: str) -> int:
    """--service-account-max-token-expiration: 0 (no cap) or a duration of 1 hour to 2^32 seconds,
    the bounds kube-apiserver checks at start."""
    seconds = parse_duration(value)
    if seconds and not 3600 <= seconds <= 2 ** 32:
        raise argparse.ArgumentTypeError("the service-account-max-token-expiration must be between 1 hour and "
                                         "2^32 seconds")
    return int(seconds)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_bool(value: str) -> bool:
    if value.lower() in ("true", "1", "t"):
        return True
    if value.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {value!r} (want true or false)")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"invalid value {value!r} (want a positive integer)")
    return n


def add_flags(p: argparse.ArgumentParser, *, default_data_dir: str | None = None) -> None:
    p.add_argument("--data-dir", required=default_data_dir is None, default=default_data_dir,
                   help="where state (SQLite), certificates, tokens and kubeconfigs live")
    p.add_argument("--secure-port", type=int, default=6443, help="HTTPS port (default 6443; 0 picks a free port)")
    p.add_argument("--bind-address", type=parse_ip, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--advertise-address", type=parse_ip, default=None,
                   help="address other components and pods use to reach this server")
    p.add_argument("--token-auth-file", type=Path, default=None,
                   help='CSV of static bearer tokens: token,user,uid,"group1,group2"')
    p.add_argument("--client-ca-file", type=Path, default=None,
                   help="CA bundle that client certificates are verified against (CN: user, O: groups); "
                        "default: the cluster CA")
    p.add_argument("--kubelet-client-certificate", type=Path, default=None,
                   help="client certificate this server shows node agents (default: pki/apiserver-kubelet-client.crt, "
                        "issued from the cluster CA)")
    p.add_argument("--kubelet-client-key", type=Path, default=None, help="its private key")
    p.add_argument("--kubelet-certificate-authority", type=Path, default=None,
                   help="CA that node agents' serving certificates must be signed by (and name the address "
                        "dialled); default: not verified")
    p.add_argument("--service-cluster-ip-range", type=parse_cidr, default=DEFAULT_SERVICE_CIDR)
    p.add_argument("--service-node-port-range", type=parse_port_range, default=parse_port_range(DEFAULT_NODE_PORTS))
    p.add_argument("--etcd-servers", type=_csv, default=[],
                   help="comma-separated etcd URLs; empty means the embedded SQLite store")
    p.add_argument("--etcd-prefix", default="/registry")
    p.add_argument("--etcd-cafile", type=Path, default=None)
    p.add_argument("--etcd-certfile", type=Path, default=None)
    p.add_argument("--etcd-keyfile", type=Path, default=None)
    p.add_argument("--etcd-compaction-interval", type=parse_duration, default=300.0,
                   help="how often old revisions are compacted (Go duration, default 5m; 0 disables)")
    p.add_argument("--enable-admission-plugins", type=_csv, default=[],
                   help="admission plugins to run in addition to the default set (as kube-apiserver)")
    p.add_argument("--disable-admission-plugins", type=_csv, default=[],
                   help="admission plugins to turn off, default ones included")
    p.add_argument("--default-not-ready-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds DefaultTolerationSeconds gives pods for node.kubernetes.io/not-ready")
    p.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds DefaultTolerationSeconds gives pods for node.kubernetes.io/unreachable")
    p.add_argument("--authorization-mode", type=_csv, default=["Node", "RBAC"],
                   help="comma list of Node, RBAC, AlwaysAllow, AlwaysDeny, tried in order (default Node,RBAC, "
                        "as kubeadm; AlwaysAllow lets every authenticated user do anything)")
    p.add_argument("--endpoint-reconciler-type", choices=["lease", "none"], default="lease",
                   help="lease: the kubernetes Service lists every live API server (default); none: only the "
                        "bootstrap endpoints")
    p.add_argument("--identity-lease-duration-seconds", type=int, default=15,
                   help="how long an API server's lease lasts without renewal before others drop it from "
                        "the kubernetes endpoints (default 15, upstream's master lease TTL)")
    p.add_argument("--identity-lease-renew-interval-seconds", type=float, default=10.0,
                   help="how often each API server renews its lease and reconciles the endpoints (default 10)")
    p.add_argument("--encryption-provider-config", type=Path, default=None,
                   help="an apiserver.config.k8s.io/v1 EncryptionConfiguration: resources encrypted at rest "
                        "(aescbc, aesgcm, secretbox, identity)")
    p.add_argument("--service-account-max-token-expiration", type=parse_max_token_expiration, default=0,
                   help="the longest a TokenRequest's token may live; longer requests are shortened to it, "
                        "with a warning (Go duration, 1h to 2^32s; default 0: no cap)")
    p.add_argument("--audit-policy-file", type=Path, default=None,
                   help="an audit.k8s.io/v1 Policy: which requests are audited, at which level")
    p.add_argument("--audit-log-path", default="",
                   help="write audit events as JSON lines to this file ('-': standard output)")
    p.add_argument("--audit-log-maxage", type=int, default=0, help="days to keep rotated audit logs (0: all)")
    p.add_argument("--audit-log-maxbackup", type=int, default=0, help="rotated audit logs to keep (0: all)")
    p.add_argument("--audit-log-maxsize", type=int, default=0,
                   help="megabytes an audit log may reach before it is rotated (0: never)")
    p.add_argument("--shutdown-timeout", type=parse_duration, default=3.0,
                   help="grace given to open requests and watches on SIGTERM")
    p.add_argument("--enable-priority-and-fairness", type=parse_bool, nargs="?", const=True, default=True,
                   help="classify requests by FlowSchemas and limit each priority level's concurrency, with "
                        "fair queuing (default true)")
    # One process runs every request on one core: seats beyond what the loop can progress
    # only let one level's work crowd the loop. 150 seats still leave the smallest level
    # (leader-election) 7, global-default 13 and workload-low 62 (upstream's shares).
    p.add_argument("--max-requests-inflight", type=_positive, default=100,
                   help="with --max-mutating-requests-inflight, the seats API Priority and Fairness shares "
                        "among priority levels (default 100; upstream 400)")
    p.add_argument("--max-mutating-requests-inflight", type=_positive, default=50,
                   help="added to --max-requests-inflight (default 50; upstream 200)")
    d = ConnectionLimits()
    p.add_argument("--tls-handshake-timeout", type=parse_duration, default=d.tls_handshake_timeout,
                   help=f"a connection's TLS handshake must finish within this (default {d.tls_handshake_timeout:g}s)")
    p.add_argument("--request-header-timeout", type=parse_duration, default=d.request_header_timeout,
                   help="an HTTP/1.1 request's headers must arrive whole within this of its first byte "
                        f"(default {d.request_header_timeout:g}s, kube-apiserver's ReadHeaderTimeout)")
    p.add_argument("--idle-connection-timeout", type=parse_duration, default=d.idle_timeout,
                   help=f"close a keep-alive connection idle this long (default {d.idle_timeout:g}s, "
                        "kube-apiserver's IdleTimeout); open watches keep it busy")
    p.add_argument("--max-connections", type=int, default=d.max_connections,
                   help=f"connections open at once; more are closed when accepted (default {d.max_connections})")
    p.add_argument("--max-connections-per-client", type=int, default=d.max_connections_per_client,
                   help=f"connections open at once from one client address (default {d.max_connections_per_client})")


def parse_workers(value: str) -> int:
    """--workers: a count of processes; 0 means one per core the process may run on."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid worker count {value!r} (want a number, 0: one per core)") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"invalid worker count {value!r} (want a number, 0: one per core)")
    return n or cores_available()


def cores_available() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers(ns: argparse.Namespace) -> int:
    workers = getattr(ns, "workers", None)
    if workers is not None:
        return workers
    return cores_available()


def add_worker_flags(p: argparse.ArgumentParser) -> None:
    """--workers of `pocketkube apiserver` and `up` (whose process is worker 0, beside the components)."""
    # Default (None): one per core, on SQLite and on etcd: at 32 concurrent clients on two cores
    # two processes beat one for GET, create and update on SQLite, and on etcd (sharing the
    # cores) for GET since consistent GETs share one etcd read per round (storage/etcd_gets.py),
    # creates and updates there about even (hack/bench/bench_workers.py, README's Benchmarks).
    p.add_argument("--workers", type=parse_workers, default=None,
                   help="API-server processes serving the one port and store, each using a core "
                        f"(0: one per core the process may run on, here {cores_available()}; the default)")


def options_from_args(ns: argparse.Namespace) -> ServerOptions:
    return ServerOptions(
        data_dir=Path(ns.data_dir),
        secure_port=ns.secure_port,
        bind_address=ns.bind_address,
        advertise_address=ns.advertise_address,
        token_auth_file=ns.token_auth_file,
        client_ca_file=ns.client_ca_file,
        kubelet_client_certificate=ns.kubelet_client_certificate,
        kubelet_client_key=ns.kubelet_client_key,
        kubelet_certificate_authority=ns.kubelet_certificate_authority,
        service_cluster_ip_range=ns.service_cluster_ip_range,
        service_node_port_range=ns.service_node_port_range,
        etcd_servers=ns.etcd_servers,
        etcd_prefix=ns.etcd_prefix,
        etcd_cafile=ns.etcd_cafile,
        etcd_certfile=ns.etcd_certfile,
        etcd_keyfile=ns.etcd_keyfile,
        etcd_compaction_interval=ns.etcd_compaction_interval,
        enable_admission_plugins=ns.enable_admission_plugins,
        disable_admission_plugins=ns.disable_admission_plugins,
        default_not_ready_toleration_seconds=ns.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=ns.default_unreachable_toleration_seconds,
        authorization_mode=ns.authorization_mode,
        shutdown_timeout=ns.shutdown_timeout,
        endpoint_reconciler_type=ns.endpoint_reconciler_type,
        identity_lease_duration_seconds=ns.identity_lease_duration_seconds,
        identity_lease_renew_interval_seconds=ns.identity_lease_renew_interval_seconds,
        encryption_provider_config=ns.encryption_provider_config,
        service_account_max_token_expiration=ns.service_account_max_token_expiration,
        audit_policy_file=ns.audit_policy_file,
        audit_log_path=ns.audit_log_path,
        audit_log_maxage=ns.audit_log_maxage,
        audit_log_maxbackup=ns.audit_log_maxbackup,
        audit_log_maxsize=ns.audit_log_maxsize,
        enable_priority_and_fairness=ns.enable_priority_and_fairness,
        max_requests_inflight=ns.max_requests_inflight,
        max_mutating_requests_inflight=ns.max_mutating_requests_inflight,
        connection_limits=ConnectionLimits(
            tls_handshake_timeout=ns.tls_handshake_timeout, request_header_timeout=ns.request_header_timeout,
            idle_timeout=ns.idle_connection_timeout, max_connections=ns.max_connections,
            max_connections_per_client=ns.max_connections_per_client),
        workers=default_workers(ns),
    )


def parse_args(argv: list[str]) -> ServerOptions:
    p = argparse.ArgumentParser(prog="pocketkube apiserver")
    add_flags(p)
    add_worker_flags(p)
    return options_from_args(p.parse_args(argv))
