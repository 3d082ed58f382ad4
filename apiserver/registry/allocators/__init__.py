"""Service cluster IP and node port allocation, kept in the store (see service.py)."""
from .ranges import AllocationError, IPRange, PortRange
from .service import NODE_PORTS_KEY, SERVICE_IPS_KEY, ServiceAllocator
from .type_change import drop_type_dependent_fields

__all__ = ["ServiceAllocator", "drop_type_dependent_fields", "IPRange", "PortRange", "AllocationError",
           "SERVICE_IPS_KEY", "NODE_PORTS_KEY"]
