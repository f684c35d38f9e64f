"""Quantities read exactly as upstream resource.Quantity does."""

from fractions import Fraction

import pytest

from lab.kube.machinery.quantity import QuantityError, cpu_millis, format_quantity, parse_quantity, to_bytes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Fraction(1, 10)),
        ("1", Fraction(1)),
        ("1.5", Fraction(3, 2)),
        ("128Mi", Fraction(128 * 2**20)),
        ("1G", Fraction(10**9)),
        ("1e3", Fraction(1000)),
        ("1E3", Fraction(1000)),
        ("2Ki", Fraction(2048)),
        ("1E", Fraction(10**18)),
        ("-2", Fraction(-2)),
        (".5", Fraction(1, 2)),
        ("250u", Fraction(250, 10**6)),
        (3, Fraction(3)),
        (0.25, Fraction(1, 4)),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["", "abc", "1Qi", "1.2.3", "Mi", "1 Mi x", "1e"])
def test_bad_quantities_are_rejected(bad):
    with pytest.raises(QuantityError, match="quantities must match the regular expression"):
        parse_quantity(bad)


def test_cpu_millis_rounds_up_like_milli_value():
    assert cpu_millis("100m") == 100
    assert cpu_millis("1.5") == 1500
    assert cpu_millis("0.0001") == 1
    assert cpu_millis("2") == 2000


def test_to_bytes_rounds_up_like_value():
    assert to_bytes("1Ki") == 1024
    assert to_bytes("1.5k") == 1500
    assert to_bytes("100m") == 1


def test_format_quantity_picks_the_largest_exact_suffix():
    assert format_quantity("0.1") == "100m"
    assert format_quantity("2000") == "2k"
    assert format_quantity(128 * 2**20, binary=True) == "128Mi"
    assert format_quantity(1000, binary=True) == "1000"
    assert format_quantity(0) == "0"
