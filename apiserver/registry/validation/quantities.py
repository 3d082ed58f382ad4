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


_BINARY_DESC = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DECIMAL_DESC = (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))


def is_binary(text) -> bool:
    return isinstance(text, str) and text.strip()[-2:] in _BINARY


def format_quantity(value: Fraction, binary: bool = False) -> str:
    """Canonical text for a quantity: the largest exact suffix (`1536Mi`, `2k`,
    `1500m`), fractions rounded up to nanos as upstream rounds."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v.denominator == 1:
        n = v.numerator
        for suffix, size in (_BINARY_DESC if binary else _DECIMAL_DESC):
            if n % size == 0:
                return f"{sign}{n // size}{suffix}"
        return f"{sign}{n}"
    for suffix, scale in (("m", 1000), ("u", 10**6), ("n", 10**9)):
        scaled = v * scale
        if scaled.denominator == 1:
            return f"{sign}{scaled.numerator}{suffix}"
    nanos = -(-v.numerator * 10**9 // v.denominator)
    return f"{sign}{nanos}n"
