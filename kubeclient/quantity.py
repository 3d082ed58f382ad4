"""Resource quantities ("100m", "1Gi", "2.5", "1e3") as numbers, for clients.

The scheduler and the node agent compare requests with capacity; CPU is counted
in millicores and everything else in whole units, rounding up like upstream
(a request of 0.1m CPU still takes 1m).
"""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}


def parse_quantity(value) -> Decimal:
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    s = str(value).strip()
    for suffix in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"):
        if s.endswith(suffix):
            number = s[: -len(suffix)]
            try:
                return Decimal(number) * Decimal(_SUFFIXES[suffix])
            except InvalidOperation:
                break
    try:
        return Decimal(s)
    except InvalidOperation:
        raise ValueError(f"quantities must match the regular expression: {value!r}") from None


def to_units(name: str, value) -> int:
    """cpu -> millicores, anything else -> whole units; rounded up."""
    q = parse_quantity(value)
    if name == "cpu":
        q *= 1000
    return int(math.ceil(q))
