"""NodeResourcesBalancedAllocation (Score): prefer nodes whose cpu and memory would be used
in similar fractions after placing the pod: score = (1 - std deviation of fractions) * 100."""

from __future__ import annotations

import math
from typing import Any

from lab.kube.scheduler.framework import (
    MAX_NODE_SCORE,
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    error,
)
from lab.kube.scheduler.resources import CPU, MEMORY, pod_requests

NAME = "NodeResourcesBalancedAllocation"


def balanced_score(fractions: list[float]) -> int:
    fractions = [min(f, 1.0) for f in fractions]
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2  # upstream's shortcut for two resources
    elif fractions:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        self.resources = [r["name"] for r in (args or {}).get("resources") or [{"name": CPU}, {"name": MEMORY}]]

    def pre_score(self, state: CycleState, pod: dict[str, Any], nodes: list[NodeInfo]) -> Status:
        state[NAME] = pod_requests(pod, non_zero=True)
        return SUCCESS

    def score(self, state: CycleState, pod: dict[str, Any], node_info: NodeInfo) -> tuple[int, Status]:
        if node_info.node is None:
            return 0, error("node not found")
        pod_req = state.get(NAME) or pod_requests(pod, non_zero=True)
        alloc, fractions = node_info.allocatable, []
        for name in self.resources:
            capacity = alloc.get(name)
            if capacity <= 0:
                continue
            fractions.append((node_info.non_zero_requested.get(name) + pod_req.get(name)) / capacity)
        return balanced_score(fractions), SUCCESS
