"""What the API server's flags tell the registry, given to every Strategy at
construction (upstream's defaults when a test builds a registry without flags)."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_NODE_PORTS = "30000-32767"


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    service_cluster_ip_range: str = DEFAULT_SERVICE_CIDR   # --service-cluster-ip-range
    service_node_port_range: str = DEFAULT_NODE_PORTS      # --service-node-port-range
