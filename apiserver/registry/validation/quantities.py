"""Quantity checks for resource lists (requests, limits, quotas, limit ranges).

Uses `apiserver.machinery.quantity.parse_quantity` when it is present; until
then a small exact parser (Fractions, so `1` equals `1000m`) stands in.
"""
from __future__ import annotations

import re
from fractions import Fraction

from apiserver.machinery.errors import Cause

from . import field

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")

QUANTITY_ERR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def parse(value) -> Fraction | None:
    """The exact value of a quantity (string or number), None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Fraction(value)
    if not isinstance(value, str):
        return None
    m = _QUANTITY.fullmatch(value.strip())
    if not m:
        return None
    number, suffix = Fraction(m.group(1)), m.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])


def validate_resource_list(resources, path: str, allow_negative: bool = False) -> list[Cause]:
    """Every value a quantity, and (for requests/limits/quotas) not negative."""
    causes: list[Cause] = []
    if not isinstance(resources, dict):
        return causes
    for name, value in resources.items():
        p = field.key(path, name)
        q = parse(value)
        if q is None:
            causes.append(field.invalid(p, value, QUANTITY_ERR))
        elif q < 0 and not allow_negative:
            causes.append(field.invalid(p, value, "must be greater than or equal to 0"))
    return causes
