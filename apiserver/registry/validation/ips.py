"""IP address checks shared by the Service, Endpoints, EndpointSlice and Node rules."""
from __future__ import annotations

import ipaddress


def is_ip(value, version: int | None = None) -> bool:
    """Whether `value` is an IP address (of the given version, when one is given)."""
    try:
        ip = ipaddress.ip_address(value)
    except (ValueError, TypeError):
        return False
    return version is None or ip.version == version
