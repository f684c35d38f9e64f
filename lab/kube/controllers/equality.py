"""Semantic equality for status writes: a missing field equals its zero value.

Servers drop zero-valued fields (`omitempty`), so comparing our computed status with the
cached one must not see `{"readyReplicas": 0}` and `{}` as different (or we would write forever).
"""

from __future__ import annotations

from typing import Any


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _strip(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (0, "", None, False, [], {})}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def semantically_equal(a: Any, b: Any) -> bool:
    return bool(_strip(a) == _strip(b))
