"""Priority admission (upstream `plugin/pkg/admission/priority`, on by default): a created pod
gets `spec.priority` and `spec.preemptionPolicy` from its PriorityClass (or the global default
class, or 0), and may not name a class that does not exist or set a priority of its own; at most
one PriorityClass is the global default, and the system classes cannot be deleted."""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.admission.chain import AdmissionRequest, Operation, refuse
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

SYSTEM_PREFIX = "system-"
DEFAULT_PREEMPTION = "PreemptLowerPriority"


class PriorityAdmission:
    name = "Priority"

    def __init__(self, classes: Registry | None) -> None:
        self.classes = classes

    async def admit(self, request: AdmissionRequest) -> None:
        if self.classes is None or request.subresource:
            return
        if request.resource == catalog.PODS and request.operation == Operation.CREATE and request.obj is not None:
            await self._admit_pod(request, request.obj)
        elif request.resource == catalog.PRIORITY_CLASSES:
            if request.operation == Operation.DELETE and request.name.startswith(SYSTEM_PREFIX):
                raise refuse(request, "deleting system priority classes is not allowed")
            if request.operation in (Operation.CREATE, Operation.UPDATE) and request.obj is not None \
                    and request.obj.get("globalDefault"):
                other = await self._default()
                if other is not None and meta.name(other) != meta.name(request.obj):
                    raise refuse(request, f"PriorityClass {meta.name(other)} is already marked as default. "
                                          "Only one default can exist")

    async def _default(self) -> Obj | None:
        assert self.classes is not None
        listed = await self.classes.list(None)
        defaults = sorted((c for c in listed["items"] if c.get("globalDefault")), key=lambda c: c.get("value", 0))
        return defaults[0] if defaults else None  # upstream: the lowest, should there be several

    async def _admit_pod(self, request: AdmissionRequest, pod: Obj) -> None:
        assert self.classes is not None
        spec = pod.setdefault("spec", {})
        name = spec.get("priorityClassName") or ""
        if name:
            try:
                found: Obj | None = await self.classes.get(None, name)
            except errors.NotFound:
                raise refuse(request, f"no PriorityClass with name {name} was found") from None
        else:
            found = await self._default()
            if found is not None:
                spec["priorityClassName"] = meta.name(found)
        value = int((found or {}).get("value", 0))
        policy = str((found or {}).get("preemptionPolicy") or DEFAULT_PREEMPTION)
        if spec.get("priority") is not None and spec["priority"] != value:
            raise refuse(request, f"the integer value of priority ({spec['priority']}) must not be provided in pod "
                                  f"spec; priority admission controller computed {value} from the given "
                                  "PriorityClass name")
        if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
            raise refuse(request, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                                  f"provided in pod spec; priority admission controller computed {policy} from the "
                                  "given PriorityClass name")
        spec["priority"], spec["preemptionPolicy"] = value, policy


def plugin(settings: Settings, registries: Mapping[Resource, Registry]) -> PriorityAdmission:
    return PriorityAdmission(registries.get(catalog.PRIORITY_CLASSES))
