"""Flag and config-file value parsers shared by the components, in upstream's spellings.

Booleans as Go's `strconv.ParseBool` accepts them (`--leader-elect=false`), durations as Go's
`time.ParseDuration` (`30s`, `1m30s`, `500ms`) or a bare number of seconds.
"""

from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TRUE, _FALSE = ("1", "t", "true", "yes"), ("0", "f", "false", "no")


def parse_bool(text: str) -> bool:
    """For argparse `type=`: a bad value is a usage error, not a silent False."""
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}")


def parse_duration(value: str | float) -> float:
    """Go duration text to seconds; a number (or numeric text) is seconds already."""
    if isinstance(value, (int, float)):
        return float(value)
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {value!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)
