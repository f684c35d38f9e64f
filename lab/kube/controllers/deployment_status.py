"""Deployment status and conditions, computed from its ReplicaSets (pure).

Conditions use upstream reasons so `kubectl rollout status` and `describe` read the same:
Available (MinimumReplicasAvailable / MinimumReplicasUnavailable) and Progressing
(NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
ProgressDeadlineExceeded).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from lab.kube.controllers.deployment_util import replicas_of, rolling_params
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

AVAILABLE, PROGRESSING = "Available", "Progressing"
MIN_AVAILABLE, MIN_UNAVAILABLE = "MinimumReplicasAvailable", "MinimumReplicasUnavailable"
NEW_RS_AVAILABLE, RS_UPDATED = "NewReplicaSetAvailable", "ReplicaSetUpdated"
DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
NEW_RS_CREATED, FOUND_NEW_RS = "NewReplicaSetCreated", "FoundNewReplicaSet"


def _count(rses: list[Obj], field: str) -> int:
    return sum(int(status_of(rs).get(field) or 0) for rs in rses)


def set_condition(status: Obj, type_: str, cond_status: str, reason: str, message: str) -> None:
    """Upsert a condition; lastTransitionTime only moves when the status flips (upstream)."""
    now = meta.now()
    conds = status.setdefault("conditions", [])
    for c in conds:
        if c.get("type") == type_:
            if c.get("status") == cond_status and c.get("reason") == reason and c.get("message") == message:
                return
            if c.get("status") != cond_status:
                c["lastTransitionTime"] = now
            c.update(status=cond_status, reason=reason, message=message, lastUpdateTime=now)
            return
    conds.append({"type": type_, "status": cond_status, "lastUpdateTime": now, "lastTransitionTime": now,
                  "reason": reason, "message": message})


def get_condition(status: Obj, type_: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), None)


def is_complete(d: Obj, status: Obj) -> bool:
    want = replicas_of(d)
    return bool(status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
                and status.get("availableReplicas", 0) == want
                and status.get("observedGeneration", 0) >= meta.generation(d))


def calculate_status(d: Obj, all_rses: list[Obj], new_rs: Obj | None, now: datetime | None = None) -> Obj:
    status = copy.deepcopy(status_of(d))
    available = _count(all_rses, "availableReplicas")
    total_spec = sum(replicas_of(rs) for rs in all_rses)
    status.update(
        observedGeneration=meta.generation(d),
        replicas=_count(all_rses, "replicas"),
        updatedReplicas=int(status_of(new_rs or {}).get("replicas") or 0),
        readyReplicas=_count(all_rses, "readyReplicas"),
        availableReplicas=available,
        unavailableReplicas=max(total_spec - available, 0),
    )
    _, max_unavailable = rolling_params(d)
    if available >= replicas_of(d) - max_unavailable:
        set_condition(status, AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.")
    else:
        set_condition(status, AVAILABLE, "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.")
    _progress(d, status, new_rs, now or datetime.now(UTC))
    return status


def _progress(d: Obj, status: Obj, new_rs: Obj | None, now: datetime) -> None:
    if new_rs is None:
        return
    name = meta.name(new_rs)
    full = {"observedGeneration": meta.generation(d), "replicas": status.get("replicas", 0),
            "updatedReplicas": status.get("updatedReplicas", 0),
            "availableReplicas": status.get("availableReplicas", 0)}
    current = get_condition(status, PROGRESSING)
    if is_complete(d, full):
        set_condition(status, PROGRESSING, "True", NEW_RS_AVAILABLE,
                      f'ReplicaSet "{name}" has successfully progressed.')
        return
    if current is not None and current.get("reason") == DEADLINE_EXCEEDED:
        return
    deadline = spec_of(d).get("progressDeadlineSeconds", 600)
    old = status_of(d)
    moved = any(old.get(k, 0) != status.get(k, 0) for k in ("replicas", "updatedReplicas", "availableReplicas"))
    if current is None or moved or current.get("reason") == NEW_RS_AVAILABLE:
        reason = NEW_RS_CREATED if current is None else RS_UPDATED
        message = f'Created new replica set "{name}"' if current is None else f'ReplicaSet "{name}" is progressing.'
        set_condition(status, PROGRESSING, "True", reason, message)
        cond = get_condition(status, PROGRESSING)
        if cond is not None and moved:
            cond["lastUpdateTime"] = meta.now()
        return
    last = current.get("lastUpdateTime")
    if deadline is not None and last and meta.parse_time(last) + timedelta(seconds=int(deadline)) < now:
        set_condition(status, PROGRESSING, "False", DEADLINE_EXCEEDED,
                      f'ReplicaSet "{name}" has timed out progressing.')
