"""resource.Quantity: `100m`, `1Gi`, `1e3`, `0.5`, parsed exactly and printed canonically.

Values are exact Fractions. As upstream does, a parsed value is rounded up (away
from zero) to a whole number of nano-units, so asking for a tiny amount still gets
something, and capped at the int64 maximum. The canonical form keeps the
family of suffix the user wrote (decimal SI, binary SI, or decimal exponent) and
picks the largest suffix that loses no precision: `1000` -> `1k`, `0.1` -> `100m`,
`1536Mi` stays, `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`, `512Ki`... Binary values
below 1024, or not whole, print in decimal SI as upstream prints them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
SUFFIX_WRONG = "unable to parse quantity's suffix"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_EXPONENT = {e: s for s, e in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = set("eEinumkKMGTP")
_DIGITS = set("0123456789")
_NANO = Fraction(1, 10**9)
_MAX = Fraction(2**63 - 1)


class QuantityError(ValueError):
    def __init__(self, message: str = FORMAT_WRONG):
        super().__init__(message)
        self.message = message


@total_ordering
@dataclass(frozen=True, slots=True)
class Quantity:
    value: Fraction
    format: str = DECIMAL_SI

    def __str__(self) -> str:
        return format_quantity(self.value, self.format)

    def __eq__(self, other) -> bool:
        if isinstance(other, Quantity):
            return self.value == other.value
        return NotImplemented

    def __lt__(self, other) -> bool:
        if isinstance(other, Quantity):
            return self.value < other.value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __add__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.value + other.value, other.format if self.value == 0 else self.format)

    def __sub__(self, other: "Quantity") -> "Quantity":
        return Quantity(self.value - other.value, other.format if self.value == 0 else self.format)

    def __neg__(self) -> "Quantity":
        return Quantity(-self.value, self.format)

    def is_zero(self) -> bool:
        return self.value == 0

    def scaled_value(self, exponent: int) -> int:
        """The value in units of 10^exponent, rounded away from zero (upstream's ScaledValue)."""
        scaled = self.value / Fraction(10) ** exponent
        rounded = math.ceil(abs(scaled))
        return rounded if scaled >= 0 else -rounded

    def int_value(self) -> int:
        return self.scaled_value(0)

    def milli_value(self) -> int:
        return self.scaled_value(-3)


def _split(text: str) -> tuple[bool, str, str, str]:
    """sign, integer digits, fraction digits, suffix; the regex in FORMAT_WRONG, checked by hand."""
    pos, end = 0, len(text)
    positive = True
    if pos < end and text[pos] in "+-":
        positive = text[pos] == "+"
        pos += 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    whole = text[start:pos]
    frac = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        frac = text[start:pos]
    if not whole and not frac:
        raise QuantityError()
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos != end:
        raise QuantityError()
    return positive, whole, frac, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """(base, exponent, format) for a suffix."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[:1] in ("+", "-") else digits
        if body and all(c in _DIGITS for c in body) and len(body) <= 18:
            return 10, int(digits), DECIMAL_EXPONENT
    raise QuantityError(SUFFIX_WRONG)


def parse_quantity(text) -> Quantity:
    """Parse a quantity string (or a JSON number, which upstream reads by its text)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise QuantityError()
    if not isinstance(text, str):
        text = repr(text)
    if not text:
        raise QuantityError()
    positive, whole, frac, suffix = _split(text)
    base, exponent, fmt = _interpret_suffix(suffix)
    if base == 10 and abs(exponent) > 400:
        # Far out of range either way; avoid building enormous exact numbers.
        amount = Fraction(0) if exponent < 0 else _MAX
        if exponent < 0 and int(whole or "0") + int(frac or "0") > 0:
            amount = _NANO
    else:
        amount = Fraction(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
        amount *= Fraction(base) ** exponent
    if amount:
        amount = math.ceil(amount / _NANO) * _NANO  # round up to a whole nano (amount is positive here)
    amount = min(amount, _MAX)
    if fmt == BINARY_SI and 0 < amount < 1:
        fmt = DECIMAL_SI
    return Quantity(amount if positive else -amount, fmt)


def _remove_factors(value: int, base: int) -> tuple[int, int]:
    times = 0
    while value and value % base == 0:
        value //= base
        times += 1
    return value, times


def format_quantity(value: Fraction, fmt: str = DECIMAL_SI) -> str:
    """The canonical string for a value in the given format family."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if fmt == BINARY_SI and (magnitude < 1024 or magnitude.denominator != 1):
        fmt = DECIMAL_SI  # small or fractional binary amounts print in decimal, avoiding rounding
    if fmt == BINARY_SI:
        mantissa, times = _remove_factors(magnitude.numerator, 1024)
        return f"{sign}{mantissa}{_BINARY_BY_EXPONENT.get(times * 10, '')}"
    # Decimal: integer mantissa times 10^exponent, exponent a multiple of 3 and as large as possible.
    scale = 0
    while magnitude.denominator != 1:
        magnitude *= 10
        scale -= 1
    mantissa, times = _remove_factors(magnitude.numerator, 10)
    exponent = scale + times
    shift = exponent % 3  # Python's % is never negative: step down to the multiple of 3 below
    mantissa *= 10 ** shift
    exponent -= shift
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    while exponent not in _DECIMAL_BY_EXPONENT:  # beyond E (cannot happen under the int64 cap)
        mantissa *= 1000
        exponent -= 3
    return f"{sign}{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"


def canonical_quantity(text) -> str:
    """`parse_quantity(text)` printed canonically (what a server stores and returns)."""
    return str(parse_quantity(text))


def compare_quantities(a, b) -> int:
    """-1, 0 or 1, for strings or Quantity values."""
    qa = a if isinstance(a, Quantity) else parse_quantity(a)
    qb = b if isinstance(b, Quantity) else parse_quantity(b)
    return (qa.value > qb.value) - (qa.value < qb.value)
