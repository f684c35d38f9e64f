"""TaintToleration: Filter rejects untolerated NoSchedule/NoExecute taints; Score prefers
nodes with fewer untolerated PreferNoSchedule taints (normalized in reverse)."""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.machinery.taints import tolerated
from lab.kube.scheduler.framework import (
    MAX_NODE_SCORE,
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    default_normalize_score,
    unschedulable,
)

NAME = "TaintToleration"


def node_taints(node_info: NodeInfo) -> list[Obj]:
    return spec_of(node_info.node or {}).get("taints") or []


def pod_tolerations(pod: Obj) -> list[Obj]:
    return spec_of(pod).get("tolerations") or []


class TaintToleration:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        pass

    def filter(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> Status:
        tolerations = pod_tolerations(pod)
        for taint in node_taints(node_info):
            if taint.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not tolerated(tolerations, taint):
                return unschedulable(
                    f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}",
                    unresolvable=True)
        return SUCCESS

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        # only tolerations that could matter for PreferNoSchedule (upstream getAllTolerationPreferNoSchedule)
        state[NAME] = [t for t in pod_tolerations(pod) if (t.get("effect") or "") in ("", "PreferNoSchedule")]
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> tuple[int, Status]:
        tolerations = state.get(NAME, pod_tolerations(pod))
        count = sum(1 for taint in node_taints(node_info)
                    if taint.get("effect") == "PreferNoSchedule" and not tolerated(tolerations, taint))
        return count, SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: dict[str, int]) -> Status:
        default_normalize_score(MAX_NODE_SCORE, True, scores)
        return SUCCESS
