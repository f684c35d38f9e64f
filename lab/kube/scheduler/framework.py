"""The scheduling framework: Status codes, CycleState, NodeInfo and the extension-point protocols.

Mirrors upstream `pkg/scheduler/framework/interface.go`: a plugin implements only the
extension points it needs; the profile (see `profile.py`) decides which run and with what weight.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol, runtime_checkable

from lab.kube.client import Client
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.scheduler.resources import Resources, node_allocatable, pod_requests

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class Code(IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3  # no amount of waiting or preemption helps on this node
    SKIP = 4


@dataclass
class Status:
    """The outcome of one plugin call; `reasons` become the FailedScheduling histogram."""

    code: Code = Code.SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @property
    def is_success(self) -> bool:
        return self.code in (Code.SUCCESS, Code.SKIP)

    @property
    def is_rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def message(self) -> str:
        return ", ".join(self.reasons)


SUCCESS = Status()


def unschedulable(*reasons: str, unresolvable: bool = False) -> Status:
    code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, list(reasons))


def error(message: str) -> Status:
    return Status(Code.ERROR, [message])


class CycleState(dict[str, Any]):
    """Per-pod scratch space shared by the plugins of one scheduling cycle (PreFilter -> Filter)."""


def host_ports(pod: Obj) -> list[tuple[str, str, int]]:
    """(protocol, hostIP, hostPort) for every container port that claims a host port."""
    out = []
    for c in spec_of(pod).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append((p.get("protocol") or "TCP", p.get("hostIP") or "0.0.0.0", int(p["hostPort"])))
    return out


class NodeInfo:
    """A node with the pods on it and their summed requests (upstream `framework.NodeInfo`)."""

    def __init__(self, node: Obj | None = None) -> None:
        self.node: Obj | None = node
        self.pods: dict[str, Obj] = {}  # by pod uid (or key when uid-less)
        self.requested = Resources()
        self.non_zero_requested = Resources()
        self.used_ports: list[tuple[str, str, int]] = []

    @property
    def name(self) -> str:
        return meta.name(self.node) if self.node else ""

    @property
    def allocatable(self) -> Resources:
        return node_allocatable(self.node) if self.node else Resources()

    @staticmethod
    def _pod_id(pod: Obj) -> str:
        return meta.uid(pod) or meta.key(pod)

    def add_pod(self, pod: Obj) -> None:
        pid = self._pod_id(pod)
        if pid in self.pods:
            self.remove_pod(self.pods[pid])
        self.pods[pid] = pod
        self.requested.add(pod_requests(pod))
        self.non_zero_requested.add(pod_requests(pod, non_zero=True))
        self.used_ports.extend(host_ports(pod))

    def remove_pod(self, pod: Obj) -> bool:
        old = self.pods.pop(self._pod_id(pod), None)
        if old is None:
            return False
        self.requested.sub(pod_requests(old))
        self.non_zero_requested.sub(pod_requests(old, non_zero=True))
        for port in host_ports(old):
            self.used_ports.remove(port)
        return True

    def clone(self) -> NodeInfo:
        return copy.deepcopy(self)


@dataclass
class QueuedPodInfo:
    """A pod waiting in the scheduling queue, with what the queue needs to order and back it off."""

    pod: Obj
    timestamp: float  # when it was (re-)added: the PrioritySort tie-break
    attempts: int = 0
    initial_attempt_timestamp: float = 0.0
    unschedulable_plugins: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return meta.key(self.pod)


class Handle(Protocol):
    """What plugins may use from the running scheduler (the API client, for DefaultBinder)."""

    client: Client


class Plugin(Protocol):
    name: str


@runtime_checkable
class QueueSortPlugin(Protocol):
    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    def pre_filter(self, state: CycleState, pod: Obj) -> Status: ...


@runtime_checkable
class FilterPlugin(Protocol):
    def filter(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> Status: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    def score(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> tuple[int, Status]: ...


@runtime_checkable
class ScoreExtensions(Protocol):
    def normalize_score(self, state: CycleState, pod: Obj, scores: dict[str, int]) -> Status: ...


@runtime_checkable
class ReservePlugin(Protocol):
    def reserve(self, state: CycleState, pod: Obj, node_name: str) -> Status: ...

    def unreserve(self, state: CycleState, pod: Obj, node_name: str) -> None: ...


@runtime_checkable
class BindPlugin(Protocol):
    async def bind(self, state: CycleState, pod: Obj, node_name: str) -> Status: ...


def default_normalize_score(max_priority: int, reverse: bool, scores: dict[str, int]) -> None:
    """Scale scores to 0..max_priority by the highest one; `reverse` flips (upstream helper)."""
    highest = max(scores.values(), default=0)
    for name, s in scores.items():
        if highest == 0:
            scores[name] = max_priority if reverse else 0
            continue
        scaled = max_priority * s // highest
        scores[name] = max_priority - scaled if reverse else scaled
