"""scheduling.k8s.io/v1 PriorityClass."""

from __future__ import annotations

from .meta_v1 import OBJECT_META
from .types import I32, B, Desc, Group, S

scheduling = Group("io.k8s.api.scheduling.v1")

scheduling.define("PriorityClass", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "description": Desc(S, "An arbitrary string that usually provides guidelines on when this priority class "
                           "should be used."),
    "globalDefault": B, "preemptionPolicy": S,
    "value": Desc(I32, "The actual value of this priority class."),
}, required=("value",), desc="PriorityClass defines mapping from a priority class name to the priority integer "
                             "value.", gvk=("scheduling.k8s.io", "v1", "PriorityClass"))
