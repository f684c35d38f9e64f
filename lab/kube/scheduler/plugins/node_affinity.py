"""NodeAffinity: Filter on `spec.nodeSelector` and required node affinity; Score by the
summed weights of matching preferred terms (normalized to 0..100).

Terms are ORed, expressions within a term ANDed; matchFields supports `metadata.name`
(how DaemonSet pods are pinned), as upstream `nodeaffinity.NodeSelector`.
"""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.nodeaffinity import required_matches, term_matches
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.scheduler.framework import (
    MAX_NODE_SCORE,
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    default_normalize_score,
    unschedulable,
)

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"

def preferred_terms(pod: Obj) -> list[Obj]:
    affinity = (spec_of(pod).get("affinity") or {}).get("nodeAffinity") or {}
    return affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []


class NodeAffinity:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        # addedAffinity (profile-wide extra affinity) as upstream NodeAffinityArgs
        self.added = (args or {}).get("addedAffinity") or {}

    def pre_filter(self, state: CycleState, pod: Obj) -> Status:
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> Status:
        node = node_info.node or {}
        added = self.added.get("requiredDuringSchedulingIgnoredDuringExecution")
        if added and not any(term_matches(t, node) for t in added.get("nodeSelectorTerms") or []):
            return unschedulable("node(s) didn't match scheduler-enforced node affinity", unresolvable=True)
        if not required_matches(pod, node):
            return unschedulable(ERR_REASON_POD, unresolvable=True)
        return SUCCESS

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        state[NAME] = preferred_terms(pod) + (self.added.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> tuple[int, Status]:
        terms = state.get(NAME)
        if terms is None:
            terms = preferred_terms(pod)
        node = node_info.node or {}
        total = sum(int(t.get("weight", 0)) for t in terms if term_matches(t.get("preference") or {}, node))
        return total, SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: dict[str, int]) -> Status:
        default_normalize_score(MAX_NODE_SCORE, False, scores)
        return SUCCESS
