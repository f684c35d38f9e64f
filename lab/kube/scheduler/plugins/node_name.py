"""NodeName (Filter): a pod that names a node in `spec.nodeName` fits only that node."""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.objects import spec_of
from lab.kube.scheduler.framework import (
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    unschedulable,
)

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        pass

    def filter(self, state: CycleState, pod: dict[str, Any], node_info: NodeInfo) -> Status:
        wanted = spec_of(pod).get("nodeName")
        if wanted and wanted != node_info.name:
            return unschedulable(ERR_REASON, unresolvable=True)
        return SUCCESS
