"""Pod predicates the controllers share: active, ready, available (upstream podutil)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, status_of


def is_terminal(pod: Obj) -> bool:
    return status_of(pod).get("phase") in ("Succeeded", "Failed")


def is_active(pod: Obj) -> bool:
    """Counts toward a ReplicaSet's replicas: not finished and not being deleted."""
    return not is_terminal(pod) and not meta.is_deleting(pod)


def condition(obj: Obj, type_: str) -> Obj | None:
    conditions: list[Obj] = status_of(obj).get("conditions") or []
    for cond in conditions:
        if cond.get("type") == type_:
            return cond
    return None


def is_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def is_available(pod: Obj, min_ready_seconds: int, now: datetime | None = None) -> bool:
    """Ready for at least `min_ready_seconds` (by the Ready condition's lastTransitionTime)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    cond = condition(pod, "Ready") or {}
    since = cond.get("lastTransitionTime")
    if not since:
        return False
    now = now or datetime.now(UTC)
    return meta.parse_time(since) + timedelta(seconds=min_ready_seconds) <= now


def pod_ips(pod: Obj) -> list[str]:
    status = status_of(pod)
    ips = [str(p.get("ip")) for p in status.get("podIPs") or [] if p.get("ip")]
    if not ips and status.get("podIP"):
        ips = [str(status["podIP"])]
    return ips
