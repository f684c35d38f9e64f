"""Taints and tolerations as upstream's `v1helper` reads them: the well-known node taint keys and
whether a pod's tolerations tolerate a node's taints (the scheduler and the controllers share it)."""

from __future__ import annotations

from lab.kube.machinery.objects import Obj

PREFIX = "node.kubernetes.io/"
NOT_READY = PREFIX + "not-ready"
UNREACHABLE = PREFIX + "unreachable"
UNSCHEDULABLE = PREFIX + "unschedulable"
NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """Upstream `Toleration.ToleratesTaint`: effect, key and (for Equal) value must match."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerated(tolerations: list[Obj], taint: Obj) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def matching_tolerations(taints: list[Obj], tolerations: list[Obj]) -> list[Obj] | None:
    """Upstream `GetMatchingTolerations`: every toleration used by some taint, or None when a taint
    is not tolerated at all."""
    used: list[Obj] = []
    for taint in taints:
        matching = [t for t in tolerations if tolerates(t, taint)]
        if not matching:
            return None
        used += matching
    return used


def no_execute(taints: list[Obj]) -> list[Obj]:
    return [t for t in taints if t.get("effect") == NO_EXECUTE]
