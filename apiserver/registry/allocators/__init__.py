"""Service cluster IP and node port allocation, kept in the store (see service.py)."""
from .ranges import AllocationError, IPRange, PortRange
from .service import (NODE_PORTS_KEY, SERVICE_IPS_KEY, allocate_for_create, configure, kubernetes_service_ip,
                      reconcile_on_update, release)
from .type_change import drop_type_dependent_fields

__all__ = ["allocate_for_create", "reconcile_on_update", "release", "configure", "kubernetes_service_ip",
           "drop_type_dependent_fields", "IPRange", "PortRange", "AllocationError", "SERVICE_IPS_KEY",
           "NODE_PORTS_KEY"]
