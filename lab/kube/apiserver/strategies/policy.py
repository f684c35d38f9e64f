"""PodDisruptionBudgets (upstream `pkg/apis/policy/validation`): minAvailable or maxUnavailable
(never both) as a count or a percentage, a valid selector, the unhealthy pod eviction policy,
and the `kubectl get pdb` table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import BadRequest, Cause
from lab.kube.machinery.intstr import is_percent, percent_error
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

UNHEALTHY_POLICIES = ["IfHealthyBudget", "AlwaysAllow"]


def validate_pdb_spec(spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return []
    causes: list[Cause] = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        causes.append(v.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    for key in ("minAvailable", "maxUnavailable"):
        value = spec.get(key)
        if value is None:
            continue
        if (why := percent_error(value)) is not None:
            causes.append(v.invalid(f"spec.{key}", value, why))
        elif is_percent(value) and int(value[:-1]) > 100:
            causes.append(v.invalid(f"spec.{key}", value, "must not be greater than 100%"))
    if spec.get("selector") is not None:
        try:
            LabelSelector.from_object(spec["selector"])
        except BadRequest as exc:
            causes.append(v.invalid("spec.selector", spec["selector"], exc.message))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POLICIES:
        causes.append(v.not_supported("spec.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POLICIES))
    return causes


@dataclass
class PodDisruptionBudgetStrategy(Strategy):
    tracks_generation: bool = True

    def initial_status(self, obj: Obj) -> Any:
        return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_pdb_spec(obj.get("spec"))

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Min Available", description="The minimum number of pods that must be available "
                       "simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "
                       "\"28%\"."),
                column("Max Unavailable", description="The maximum number of pods that may be unavailable "
                       "simultaneously.  This can be either an integer or a string specifying a percentage, e.g. "
                       "\"28%\"."),
                column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this "
                       "time."),
                AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        spec = spec_of(obj)
        return [meta.name(obj), str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
                str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
                int(status_of(obj).get("disruptionsAllowed") or 0), age(obj)]


PDBS = PodDisruptionBudgetStrategy(catalog.PDBS)
