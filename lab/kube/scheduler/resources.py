"""Resource arithmetic for scheduling: what a pod requests and what a node can allocate.

Follows upstream `resourcehelper.PodRequests`: max(sum of containers, largest init
container) plus pod overhead; scoring uses "non-zero" requests (100m CPU / 200Mi memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.quantity import cpu_millis, to_bytes

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"
DEFAULT_MILLI_CPU_REQUEST = 100  # upstream schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # upstream schedutil.DefaultMemoryRequest


@dataclass
class Resources:
    """Amounts in base units: millicores, bytes, and extended resources by name."""

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    allowed_pods: int = 0
    scalar: dict[str, int] = field(default_factory=dict)

    def add(self, other: Resources) -> None:
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        for k, v in other.scalar.items():
            self.scalar[k] = self.scalar.get(k, 0) + v

    def sub(self, other: Resources) -> None:
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory
        self.ephemeral_storage -= other.ephemeral_storage
        for k, v in other.scalar.items():
            self.scalar[k] = self.scalar.get(k, 0) - v

    def get(self, name: str) -> int:
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        if name == EPHEMERAL_STORAGE:
            return self.ephemeral_storage
        if name == PODS:
            return self.allowed_pods
        return self.scalar.get(name, 0)


def from_resource_list(rl: dict[str, Any] | None) -> Resources:
    """A `ResourceList` (`{"cpu": "500m", "memory": "1Gi"}`) as base-unit integers."""
    out = Resources()
    for name, value in (rl or {}).items():
        if name == CPU:
            out.milli_cpu = cpu_millis(value)
        elif name == MEMORY:
            out.memory = to_bytes(value)
        elif name == EPHEMERAL_STORAGE:
            out.ephemeral_storage = to_bytes(value)
        elif name == PODS:
            out.allowed_pods = to_bytes(value)
        elif "/" in name or name.startswith("hugepages-"):
            out.scalar[name] = to_bytes(value) if name.startswith("hugepages-") else cpu_millis(value)
    return out


def _max_into(acc: Resources, other: Resources) -> None:
    acc.milli_cpu = max(acc.milli_cpu, other.milli_cpu)
    acc.memory = max(acc.memory, other.memory)
    acc.ephemeral_storage = max(acc.ephemeral_storage, other.ephemeral_storage)
    for k, v in other.scalar.items():
        acc.scalar[k] = max(acc.scalar.get(k, 0), v)


def _container_requests(container: Obj, non_zero: bool) -> Resources:
    res = from_resource_list((container.get("resources") or {}).get("requests"))
    if non_zero:
        requests = (container.get("resources") or {}).get("requests") or {}
        if CPU not in requests:
            res.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
        if MEMORY not in requests:
            res.memory = DEFAULT_MEMORY_REQUEST
    return res


def pod_requests(pod: Obj, non_zero: bool = False) -> Resources:
    """What the pod needs on a node: containers summed, init containers as a floor, plus overhead."""
    spec = spec_of(pod)
    total = Resources()
    for c in spec.get("containers") or []:
        total.add(_container_requests(c, non_zero))
    for c in spec.get("initContainers") or []:
        # init containers run one at a time before the app containers: the largest one is a floor
        _max_into(total, _container_requests(c, non_zero))
    if spec.get("overhead"):
        total.add(from_resource_list(spec["overhead"]))
    return total


def node_allocatable(node: Obj) -> Resources:
    """`status.allocatable` (falling back to `capacity`, as a node that only reports capacity)."""
    status = status_of(node)
    return from_resource_list(status.get("allocatable") or status.get("capacity"))
