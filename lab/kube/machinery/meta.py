"""Typed accessors for `metadata` of plain-dict Kubernetes objects.

Every component reads names, labels and owners through these helpers instead of
indexing dicts by hand, so a missing `metadata` never raises a KeyError.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from lab.kube.machinery.objects import Obj


def metadata(obj: Obj) -> dict[str, Any]:
    return obj.get("metadata") or {}


def name(obj: Obj) -> str:
    return str(metadata(obj).get("name") or "")


def namespace(obj: Obj) -> str:
    return str(metadata(obj).get("namespace") or "")


def uid(obj: Obj) -> str:
    return str(metadata(obj).get("uid") or "")


def resource_version(obj: Obj) -> str:
    return str(metadata(obj).get("resourceVersion") or "")


def generation(obj: Obj) -> int:
    return int(metadata(obj).get("generation") or 0)


def key(obj: Obj) -> str:
    """The cache/work-queue key: `namespace/name`, or `name` for cluster-scoped objects."""
    ns = namespace(obj)
    return f"{ns}/{name(obj)}" if ns else name(obj)


def split_key(k: str) -> tuple[str, str]:
    """Inverse of `key`: (`namespace`, `name`), namespace "" for cluster-scoped keys."""
    ns, sep, n = k.partition("/")
    return (ns, n) if sep else ("", ns)


def labels(obj: Obj) -> dict[str, str]:
    return metadata(obj).get("labels") or {}


def annotations(obj: Obj) -> dict[str, str]:
    return metadata(obj).get("annotations") or {}


def finalizers(obj: Obj) -> list[str]:
    return list(metadata(obj).get("finalizers") or [])


def owner_references(obj: Obj) -> list[dict[str, Any]]:
    return list(metadata(obj).get("ownerReferences") or [])


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    """The owner reference with `controller: true`, as upstream `metav1.GetControllerOf`."""
    for ref in owner_references(obj):
        if ref.get("controller"):
            return ref
    return None


def new_controller_ref(owner: Obj, *, block_owner_deletion: bool = True) -> dict[str, Any]:
    """An ownerReference naming `owner` as the controller (as `metav1.NewControllerRef`)."""
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": name(owner),
        "uid": uid(owner),
        "controller": True,
        "blockOwnerDeletion": block_owner_deletion,
    }


def is_deleting(obj: Obj) -> bool:
    return bool(metadata(obj).get("deletionTimestamp"))


def format_time(t: datetime) -> str:
    """`t` as upstream `metav1.Time` renders it: RFC 3339 in UTC, seconds, `Z`."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    """The current time as `metav1.Time`."""
    return format_time(datetime.now(UTC))


def now_micro() -> str:
    """The current time as `metav1.MicroTime` (Leases, Events): microseconds, `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """Parse a `Time` or `MicroTime` string into an aware datetime (UTC)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(UTC)


def new_uid() -> str:
    return str(uuid.uuid4())
