"""PriorityClasses (upstream `pkg/apis/scheduling`): the two system classes, the user ceiling of
one billion, an immutable value and preemption policy, and the `kubectl get priorityclasses` table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj

HIGHEST_USER_PRIORITY = 1_000_000_000
PREEMPTION_POLICIES = ["PreemptLowerPriority", "Never"]
SYSTEM_CLASSES: dict[str, tuple[int, str]] = {
    "system-node-critical": (2_000_001_000, "Used for system critical pods that must not be moved from their "
                                            "current node."),
    "system-cluster-critical": (2_000_000_000, "Used for system critical pods that must run in the cluster, but "
                                               "can be moved to another node if necessary."),
}


def system_class(name: str) -> Obj:
    value, description = SYSTEM_CLASSES[name]
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority"}


def _system_name_error(obj: Obj) -> str | None:
    """Upstream `IsKnownSystemPriorityClass`, for a name with the reserved prefix."""
    name = meta.name(obj)
    if name not in SYSTEM_CLASSES:
        return f"{name} is not a known system priority class"
    if obj.get("value") != SYSTEM_CLASSES[name][0]:
        return f"value of {name} PriorityClass must be {SYSTEM_CLASSES[name][0]}"
    if obj.get("globalDefault"):
        return f"globalDefault of {name} PriorityClass must be false"
    return None


@dataclass
class PriorityClassStrategy(Strategy):
    def defaults(self, obj: Obj) -> None:
        obj.setdefault("preemptionPolicy", "PreemptLowerPriority")

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        value = obj.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            return [*causes, v.required("value")]
        if meta.name(obj).startswith("system-"):
            if (why := _system_name_error(obj)) is not None:
                causes.append(v.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved "
                                                           f"for system use only. error: {why}"))
        elif value > HIGHEST_USER_PRIORITY:
            causes.append(v.forbidden("value", f"maximum allowed value of a user defined priority is "
                                               f"{HIGHEST_USER_PRIORITY}"))
        if obj.get("preemptionPolicy") not in PREEMPTION_POLICIES:
            causes.append(v.not_supported("preemptionPolicy", obj.get("preemptionPolicy"), PREEMPTION_POLICIES))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if new.get("value") != old.get("value"):
            causes.append(v.forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(v.immutable("preemptionPolicy", new.get("preemptionPolicy")))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Value", "integer", "The value of this priority class."),
                column("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be "
                       "considered as the default priority."),
                AGE_COLUMN,
                column("PreemptionPolicy", description="PreemptionPolicy is the Policy for preempting pods with lower "
                       "priority.")]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), int(obj.get("value", 0)), bool(obj.get("globalDefault", False)), age(obj),
                obj.get("preemptionPolicy", "")]


PRIORITY_CLASSES = PriorityClassStrategy(catalog.PRIORITY_CLASSES)
