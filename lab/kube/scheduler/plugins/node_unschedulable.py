"""NodeUnschedulable (Filter): cordoned nodes (`spec.unschedulable`) take only pods that
tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint."""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.objects import spec_of
from lab.kube.machinery.taints import tolerated
from lab.kube.scheduler.framework import (
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    unschedulable,
)
from lab.kube.scheduler.plugins.taint_toleration import pod_tolerations

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_REASON_UNKNOWN = "node(s) had unknown conditions"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        pass

    def filter(self, state: CycleState, pod: dict[str, Any], node_info: NodeInfo) -> Status:
        if node_info.node is None:
            return unschedulable(ERR_REASON_UNKNOWN, unresolvable=True)
        if not spec_of(node_info.node).get("unschedulable"):
            return SUCCESS
        if tolerated(pod_tolerations(pod), UNSCHEDULABLE_TAINT):
            return SUCCESS
        return unschedulable(ERR_REASON_UNSCHEDULABLE, unresolvable=True)
