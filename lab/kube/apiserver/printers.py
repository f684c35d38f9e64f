"""Cell formatting shared by the table columns of every strategy (ages, lists, `<none>`).

Matches kubectl/apimachinery `duration.HumanDuration` so AGE reads as on a real cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lab.kube.machinery import meta


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rem = s % 60
        return f"{minutes}m" if rem == 0 else f"{minutes}m{rem}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rem = minutes % 60
        return f"{hours}h" if rem == 0 else f"{hours}h{rem}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rem = hours % 24
        return f"{days}d" if rem == 0 else f"{days}d{rem}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rem = days % 365
        return f"{years}y" if rem == 0 else f"{years}y{rem}d"
    return f"{years}y"


def age(obj: dict[str, Any], now: datetime | None = None) -> str:
    ts = meta.metadata(obj).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    now = now or datetime.now(UTC)
    return human_duration((now - meta.parse_time(ts)).total_seconds())


def joined(values: list[str], empty: str = "<none>") -> str:
    return ",".join(values) if values else empty


def label_selector_text(selector: dict[str, Any] | None) -> str:
    """`metav1.FormatLabelSelector` for the SELECTOR column."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, vals = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(vals)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(vals)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or "<none>"
