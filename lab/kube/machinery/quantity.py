"""Resource quantities (`100m`, `1.5`, `128Mi`, `1G`, `1e3`) as exact Fractions.

Follows apimachinery `resource.Quantity`: binary-SI, decimal-SI and decimal-exponent
suffixes; `cpu_millis` and `to_bytes` round up like `MilliValue()` / `Value()`.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 10**3), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}
_NUMBER = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity (message as upstream's ErrFormatWrong)."""


def _multiplier(suffix: str) -> Fraction:
    if suffix in _BINARY:
        return Fraction(_BINARY[suffix])
    if suffix in _DECIMAL:
        return _DECIMAL[suffix]
    m = _EXPONENT.match(suffix)
    if m:
        return Fraction(10) ** int(m.group(1))
    raise QuantityError(QUANTITY_ERROR)


def parse_quantity(value: str | float | Fraction) -> Fraction:
    """The exact value of a quantity; ints, floats and Fractions pass through."""
    if isinstance(value, bool):
        raise QuantityError(QUANTITY_ERROR)
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError(QUANTITY_ERROR)
        return Fraction(str(value))
    text = str(value).strip()
    m = _NUMBER.match(text)
    if not text or not m or not (m.group(2) or m.group(3)):
        raise QuantityError(QUANTITY_ERROR)
    sign, whole, frac, suffix = m.groups()
    number = Fraction(int(whole or "0"))
    if frac:
        number += Fraction(int(frac), 10 ** len(frac))
    if sign == "-":
        number = -number
    return number * _multiplier(suffix)


def cpu_millis(value: str | float | Fraction) -> int:
    """Millicores, rounded up (upstream `MilliValue`): `100m` -> 100, `0.0001` -> 1."""
    return math.ceil(parse_quantity(value) * 1000)


def to_bytes(value: str | float | Fraction) -> int:
    """The integer value rounded up (upstream `Value`): `1Ki` -> 1024, `1.5k` -> 1500."""
    return math.ceil(parse_quantity(value))


def format_quantity(value: str | float | Fraction, binary: bool = False) -> str:
    """A canonical string: the largest exact suffix (binary Ki.. or decimal k..), else milli.

    `binary=True` suits memory (`128Mi`); the default suits CPU and counts (`100m`, `2`).
    """
    q = parse_quantity(value)
    if q == 0:
        return "0"
    if q.denominator != 1:
        milli = q * 1000
        if milli.denominator == 1:
            return f"{milli.numerator}m"
        return f"{math.ceil(q * 10**9)}n"
    n = q.numerator
    table = list(_BINARY.items()) if binary else [(s, int(f)) for s, f in _DECIMAL.items() if f >= 1000]
    for suffix, factor in reversed(table):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)
