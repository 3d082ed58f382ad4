"""resource.Quantity parsing, canonical form, comparison."""
from fractions import Fraction

import pytest

from apiserver.machinery.quantity import (
    FORMAT_WRONG, SUFFIX_WRONG, QuantityError, canonical_quantity, compare_quantities, parse_quantity,
)


@pytest.mark.parametrize("text,value", [
    ("100m", Fraction(1, 10)),
    ("1Gi", 2**30),
    ("1e3", 1000),
    ("0.5", Fraction(1, 2)),
    ("128974848", 128974848),
    ("129M", 129_000_000),
    ("123Mi", 123 * 2**20),
    ("-1.5k", -1500),
    ("+2", 2),
    ("1.G", 10**9),
    (".5", Fraction(1, 2)),
    ("1E", 10**18),
    ("1e-3", Fraction(1, 1000)),
    ("2E+2", 200),
    ("0.1n", Fraction(1, 10**9)),  # rounded up to a whole nano
    ("1.0000000001", Fraction(1000000001, 10**9)),
    ("8Ei", 2**63 - 1),  # capped at int64
    ("00100m", Fraction(1, 10)),
    (1, 1),
    (0.25, Fraction(1, 4)),
])
def test_parse_value(text, value):
    assert parse_quantity(text).value == value


@pytest.mark.parametrize("text,canonical", [
    ("100m", "100m"),
    ("0.1", "100m"),
    ("1000", "1k"),
    ("1500", "1500"),
    ("1.5k", "1500"),
    ("1e3", "1e3"),
    ("1.5e3", "1500"),
    ("12e-1", "1200e-3"),
    ("1024Mi", "1Gi"),
    ("1536Mi", "1536Mi"),
    ("1.5Gi", "1536Mi"),
    ("1.5Ki", "1536"),
    ("0.5Ki", "512"),
    ("1023Ki", "1023Ki"),
    ("1Ki", "1Ki"),
    ("0.5Mi", "512Ki"),
    ("129M", "129M"),
    ("128974848", "128974848"),
    ("0", "0"),
    ("0Gi", "0"),
    ("-0", "0"),
    ("-100m", "-100m"),
    ("1n", "1n"),
    ("0.1n", "1n"),
    ("1u", "1u"),
    ("1000000u", "1"),
    ("1.0000000001", "1000000001n"),
    ("8Ei", "9223372036854775807"),
    ("1Ei", "1Ei"),
    ("5E", "5E"),
    ("1e-9", "1e-9"),
    ("1e0", "1"),
])
def test_canonical(text, canonical):
    assert canonical_quantity(text) == canonical


@pytest.mark.parametrize("text", ["", "abc", "1.5.5", "1 Gi", " 1", "1Gi ", "Gi", "-", ".", "1x", "1/2",
                                  True, None, [1]])
def test_format_errors(text):
    with pytest.raises(QuantityError) as e:
        parse_quantity(text)
    assert str(e.value) == FORMAT_WRONG


@pytest.mark.parametrize("text", ["1K", "1mm", "1e", "1e+", "1Kii", "1iK", "1Gi1", "1Mie"])
def test_suffix_errors(text):
    with pytest.raises(QuantityError) as e:
        parse_quantity(text)
    assert str(e.value) in (SUFFIX_WRONG, FORMAT_WRONG)


def test_suffix_error_wording():
    with pytest.raises(QuantityError) as e:
        parse_quantity("1K")
    assert str(e.value) == "unable to parse quantity's suffix"


def test_compare_and_arithmetic():
    assert compare_quantities("1Gi", "1G") == 1
    assert compare_quantities("1000m", "1") == 0
    assert compare_quantities("500m", "0.6") == -1
    assert parse_quantity("1k") == parse_quantity("1000")
    assert sorted(map(parse_quantity, ["1Gi", "1", "100m"])) == list(map(parse_quantity, ["100m", "1", "1Gi"]))
    total = parse_quantity("1Gi") + parse_quantity("512Mi")
    assert str(total) == "1536Mi"
    assert str(parse_quantity("0") + parse_quantity("1Ki")) == "1Ki"
    assert str(parse_quantity("1") - parse_quantity("250m")) == "750m"


def test_scaled_values_round_away_from_zero():
    assert parse_quantity("100m").int_value() == 1
    assert parse_quantity("1.5").milli_value() == 1500
    assert parse_quantity("1n").milli_value() == 1
    assert parse_quantity("-100m").int_value() == -1
    assert parse_quantity("1Gi").int_value() == 2**30
