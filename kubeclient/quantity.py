"""Resource quantities ("100m", "1Gi", "2.5", "1e3") as numbers, for clients.

The scheduler compares requests with capacity; the node agent turns limits into
cgroup settings and the downward API's resourceFieldRef values. CPU is counted
in millicores and everything else in whole units, rounding up like upstream
(a request of 0.1m CPU still takes 1m). The API server has validated the text.
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
    return millicores(value) if name == "cpu" else whole_units(value)


def millicores(value) -> int:
    return int(math.ceil(parse_quantity(value) * 1000))


def whole_units(value) -> int:
    """Whole units, rounded up, as upstream's Quantity.Value()."""
    return int(math.ceil(parse_quantity(value)))


def divide_ceil(value, divisor) -> int:
    """resourceFieldRef with a divisor: ceil(quantity / divisor); 0 for a zero divisor."""
    d = parse_quantity(divisor or "1")
    if d == 0:
        return 0
    return int(math.ceil(parse_quantity(value) / d))
