"""The in-tree plugin registry: plugin name -> factory `(args, handle) -> plugin`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.kube.scheduler.plugins.balanced_allocation import (
    NodeResourcesBalancedAllocation,
)
from lab.kube.scheduler.plugins.default_binder import DefaultBinder
from lab.kube.scheduler.plugins.node_affinity import NodeAffinity
from lab.kube.scheduler.plugins.node_name import NodeName
from lab.kube.scheduler.plugins.node_ports import NodePorts
from lab.kube.scheduler.plugins.node_resources_fit import NodeResourcesFit
from lab.kube.scheduler.plugins.node_unschedulable import NodeUnschedulable
from lab.kube.scheduler.plugins.priority_sort import PrioritySort
from lab.kube.scheduler.plugins.taint_toleration import TaintToleration

Factory = Callable[[dict[str, Any] | None, Any], Any]

REGISTRY: dict[str, Factory] = {
    cls.name: cls
    for cls in (PrioritySort, NodeUnschedulable, NodeName, NodeResourcesFit, NodeResourcesBalancedAllocation,
                NodeAffinity, TaintToleration, NodePorts, DefaultBinder)
}

__all__ = ["REGISTRY", "Factory"]
