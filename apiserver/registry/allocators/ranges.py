"""Pure bookkeeping of a range of service IPs or node ports.

The state is a small JSON document kept in the store (see service.py): which
values of the range are taken. Everything here is I/O-free: pick a free value,
claim a requested one, give values back, each returning the new state or a
reason the claim failed.
"""
from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

import orjson


class AllocationError(Exception):
    """A requested value cannot be had; `reason` is upstream's wording."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RangeFullError(AllocationError):
    pass


ALREADY_ALLOCATED = "provided IP is already allocated"
PORT_ALREADY_ALLOCATED = "provided port is already allocated"


@dataclass(frozen=True, slots=True)
class IPRange:
    """A service CIDR. The network address and the broadcast (IPv4) are never
    handed out; the first usable address is reserved for the `kubernetes`
    Service, so only an explicit request gets it."""

    cidr: str

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=False)

    def first_usable(self) -> str:
        return str(self.network.network_address + 1)

    def _bounds(self) -> tuple[int, int]:
        net = self.network
        lo = int(net.network_address) + 1
        hi = int(net.broadcast_address) - (1 if net.version == 4 else 0)
        return lo, hi

    def contains(self, ip: str) -> bool:
        try:
            v = int(ipaddress.ip_address(ip))
        except ValueError:
            return False
        lo, hi = self._bounds()
        return lo <= v <= hi and ipaddress.ip_address(ip).version == self.network.version

    def out_of_range(self, ip: str) -> str:
        return (f"the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {self.network}")

    def pick(self, taken: set[str], rng: random.Random) -> str:
        lo, hi = self._bounds()
        lo += 1  # the first usable address is kept for the kubernetes Service
        size = hi - lo + 1
        if size <= 0 or len(taken) >= size + 1:
            raise RangeFullError("range is full")
        start = rng.randrange(size)
        for i in range(size):
            ip = str(ipaddress.ip_address(lo + (start + i) % size))
            if ip not in taken:
                return ip
        raise RangeFullError("range is full")


@dataclass(frozen=True, slots=True)
class PortRange:
    base: int = 30000
    size: int = 2768  # 30000-32767

    @classmethod
    def parse(cls, text: str) -> "PortRange":
        lo, _, hi = text.partition("-")
        lo_i, hi_i = int(lo), int(hi or lo)
        return cls(lo_i, hi_i - lo_i + 1)

    def __str__(self) -> str:
        return f"{self.base}-{self.base + self.size - 1}"

    def contains(self, port: int) -> bool:
        return self.base <= port < self.base + self.size

    def out_of_range(self, port: int) -> str:
        return f"provided port is not in the valid range. The range of valid ports is {self}"

    def pick(self, taken: set[int], rng: random.Random) -> int:
        start = rng.randrange(self.size)
        for i in range(self.size):
            p = self.base + (start + i) % self.size
            if p not in taken:
                return p
        raise RangeFullError("range is full")


@dataclass(slots=True)
class State:
    """What is taken, and by whom (the owning object's uid): claims by the same
    owner are idempotent, so a retried update never trips over its own claim,
    and a release never frees another object's value. Serialised sorted so
    equal states encode to equal bytes."""

    range: str
    taken: dict = field(default_factory=dict)

    def encode(self) -> bytes:
        return orjson.dumps({"kind": "RangeAllocation", "apiVersion": "v1", "range": self.range,
                             "allocated": [[v, self.taken[v]] for v in sorted(self.taken, key=_sort_key)]})

    @classmethod
    def decode(cls, raw: bytes | None, range_text: str) -> "State":
        if not raw:
            return cls(range_text)
        doc = orjson.loads(raw)
        taken = {}
        for item in doc.get("allocated") or ():
            if isinstance(item, list) and len(item) == 2:
                taken[item[0]] = item[1]
            else:
                taken[item] = ""
        return cls(doc.get("range") or range_text, taken)


def _sort_key(v):
    if isinstance(v, int):
        return (0, v, "")
    try:
        return (1, int(ipaddress.ip_address(v)), "")
    except ValueError:
        return (2, 0, str(v))
