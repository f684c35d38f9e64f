"""Kubernetes objects are plain dicts with upstream JSON shapes: the one `Obj` alias, and
accessors for their top-level sections so a missing `spec` or `status` reads as empty.

The accessors return the object's own dict when it is there (callers that only read it
share it with the object; cached objects are copied before they are changed), and a new
empty dict when it is not.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def spec_of(obj: Obj) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def status_of(obj: Obj) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}
