"""NodeResourcesFit: Filter on requests vs `status.allocatable`; Score by scoring strategy.

Filter: the pod's requests (containers summed, init containers as floor) plus what the
node's pods already request must fit in allocatable for cpu, memory, ephemeral-storage,
extended resources, and the pod count. Score: LeastAllocated (default) or MostAllocated
over weighted resources (cpu:1, memory:1), using non-zero requests like upstream.
"""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.objects import Obj
from lab.kube.scheduler.framework import (
    MAX_NODE_SCORE,
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    error,
    unschedulable,
)
from lab.kube.scheduler.resources import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    Resources,
    pod_requests,
)

NAME = "NodeResourcesFit"
LEAST_ALLOCATED, MOST_ALLOCATED = "LeastAllocated", "MostAllocated"
DEFAULT_RESOURCES: list[dict[str, Any]] = [{"name": CPU, "weight": 1}, {"name": MEMORY, "weight": 1}]

def insufficient(pod_req: Resources, node_info: NodeInfo) -> list[str]:
    """The upstream reasons ("Too many pods", "Insufficient cpu", ...) why the pod does not fit."""
    reasons: list[str] = []
    alloc, used = node_info.allocatable, node_info.requested
    if len(node_info.pods) + 1 > alloc.allowed_pods:
        reasons.append("Too many pods")
    if (pod_req.milli_cpu == 0 and pod_req.memory == 0 and pod_req.ephemeral_storage == 0
            and not any(pod_req.scalar.values())):
        return reasons
    if pod_req.milli_cpu > 0 and pod_req.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append(f"Insufficient {CPU}")
    if pod_req.memory > 0 and pod_req.memory > alloc.memory - used.memory:
        reasons.append(f"Insufficient {MEMORY}")
    if pod_req.ephemeral_storage > 0 and pod_req.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage:
        reasons.append(f"Insufficient {EPHEMERAL_STORAGE}")
    for name, amount in sorted(pod_req.scalar.items()):
        if amount > 0 and amount > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def least_allocated(requested: int, capacity: int) -> int:
    if capacity <= 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_allocated(requested: int, capacity: int) -> int:
    if capacity <= 0:
        return 0
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


class NodeResourcesFit:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        strategy = (args or {}).get("scoringStrategy") or {}
        self.strategy = strategy.get("type") or LEAST_ALLOCATED
        if self.strategy not in (LEAST_ALLOCATED, MOST_ALLOCATED):
            raise ValueError(f"scoringStrategy.type: Unsupported value: {self.strategy!r}")
        self.resources: list[dict[str, Any]] = strategy.get("resources") or DEFAULT_RESOURCES

    def pre_filter(self, state: CycleState, pod: Obj) -> Status:
        state[NAME] = pod_requests(pod)
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> Status:
        req = state.get(NAME)
        if req is None:
            req = pod_requests(pod)
        reasons = insufficient(req, node_info)
        return unschedulable(*reasons) if reasons else SUCCESS

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        state[NAME + "/score"] = pod_requests(pod, non_zero=True)
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> tuple[int, Status]:
        if node_info.node is None:
            return 0, error("node not found")
        pod_req = state.get(NAME + "/score") or pod_requests(pod, non_zero=True)
        scorer = least_allocated if self.strategy == LEAST_ALLOCATED else most_allocated
        alloc, total, weights = node_info.allocatable, 0, 0
        for r in self.resources:
            name, weight = r["name"], int(r.get("weight", 1))
            used = node_info.non_zero_requested if name in (CPU, MEMORY) else node_info.requested
            total += scorer(used.get(name) + pod_req.get(name), alloc.get(name)) * weight
            weights += weight
        return (total // weights if weights else 0), SUCCESS
