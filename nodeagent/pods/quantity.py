"""Just enough of Kubernetes resource quantities for cgroup limits and downward API.

The node agent may not import the API server's machinery, and needs only
"parse to a number": CPU in millicores, everything else in plain units.
"""

from decimal import Decimal
import math

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def parse(q: str | int | float) -> Decimal:
    s = str(q).strip()
    for suf, mult in _BINARY.items():
        if s.endswith(suf):
            return Decimal(s[: -len(suf)]) * mult
    if s and s[-1] in _DECIMAL and not s[-1].isdigit():
        return Decimal(s[:-1]) * Decimal(_DECIMAL[s[-1]])
    return Decimal(s)


def millicores(q: str | int | float) -> int:
    return math.ceil(parse(q) * 1000)


def value(q: str | int | float) -> int:
    """Whole units, rounded up, as upstream's Quantity.Value()."""
    return math.ceil(parse(q))


def divide_ceil(q: str | int | float, divisor: str) -> int:
    """resourceFieldRef with a divisor: ceil(quantity / divisor), at least 1 if non-zero."""
    d = parse(divisor or "1")
    v = parse(q)
    if d == 0:
        return 0
    return math.ceil(v / d)
