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


def _sloppy(value: str) -> str:
    """Go's ParseIPSloppy also takes IPv4 octets with leading zeros (read as decimal)."""
    if value.count(".") == 3 and ":" not in value and "/" not in value:
        parts = value.split(".")
        if all(p.isdigit() and p.isascii() for p in parts):
            return ".".join(str(int(p)) for p in parts)
    return value


def is_ip_sloppy(value) -> bool:
    """Whether upstream's IsValidIP accepts `value` (ParseIPSloppy)."""
    return isinstance(value, str) and is_ip(_sloppy(value))


def is_cidr_sloppy(value) -> bool:
    """Whether upstream's IsValidCIDR accepts `value` (ParseCIDRSloppy: host bits may be set)."""
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    ip, bits = value.split("/")
    if not bits.isdigit() or not bits.isascii():
        return False
    try:
        ipaddress.ip_network(f"{_sloppy(ip)}/{bits}", strict=False)
    except ValueError:
        return False
    return True


def cidr_family(value) -> int | None:
    """4 or 6 for a CIDR upstream accepts, else None."""
    if not is_cidr_sloppy(value):
        return None
    return ipaddress.ip_network(_sloppy(value.split("/")[0]) + "/" + value.split("/")[1], strict=False).version


IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
