"""IntOrString values (`maxUnavailable: 25%` or `2`) as counts: upstream `GetScaledValueFromIntOrPercent`."""

from __future__ import annotations

import math
from typing import Any


def is_percent(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("%")


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """`value` of `total`: a percentage rounded up or down, or the integer itself."""
    if is_percent(value):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def percent_error(value: Any) -> str | None:
    """Why `value` is not an IntOrString count (upstream `ValidatePositiveIntOrPercent`), else None."""
    if isinstance(value, bool):
        return "must be an integer or percentage (e.g '5%')"
    if isinstance(value, int):
        return "must be greater than or equal to 0" if value < 0 else None
    if isinstance(value, str):
        if not value.endswith("%") or not value[:-1].isdigit():
            return "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', " \
                   "regex used for validation is '[0-9]+%')"
        return None
    return "must be an integer or percentage (e.g '5%')"
