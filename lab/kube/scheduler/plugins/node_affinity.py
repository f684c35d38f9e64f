"""NodeAffinity: Filter on `spec.nodeSelector` and required node affinity; Score by the
summed weights of matching preferred terms (normalized to 0..100).

Terms are ORed, expressions within a term ANDed; matchFields supports `metadata.name`
(how DaemonSet pods are pinned), as upstream `nodeaffinity.NodeSelector`.
"""

from __future__ import annotations

from typing import Any

from lab.kube.machinery import meta
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

def _match_expression(expr: Obj, values_of: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    present = key in values_of
    if op == "In":
        return present and values_of[key] in values
    if op == "NotIn":
        return not present or values_of[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, want = int(values_of[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False  # unknown operator: never matches (validation should have refused it)


def term_matches(term: Obj, node: Obj) -> bool:
    """One NodeSelectorTerm; an empty term matches nothing (upstream)."""
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = meta.labels(node)
    if not all(_match_expression(e, labels) for e in exprs):
        return False
    node_fields = {"metadata.name": meta.name(node)}
    return all(_match_expression(f, node_fields) for f in fields)


def required_matches(pod: Obj, node: Obj) -> bool:
    spec = spec_of(pod)
    labels = meta.labels(node)
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


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
