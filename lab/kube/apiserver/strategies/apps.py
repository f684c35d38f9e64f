"""Deployments and ReplicaSets: replicas/strategy defaults, selector-vs-template validation,
generation on spec changes, and their kubectl tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.kube.apiserver.printers import age, joined, label_selector_text
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.apiserver.strategies.pods import default_template, validate_pod_spec
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import BadRequest, Cause
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

WIDE = [column("Containers", priority=1, description="Names of each container in the template."),
        column("Images", priority=1, description="Images referenced by each container in the template."),
        column("Selector", priority=1, description="Label selector for pods. Existing ReplicaSets whose pods are "
               "selected by this will be the ones affected by this deployment.")]


def _template_cells(obj: Obj) -> list[str]:
    spec = spec_of(obj)
    containers = spec_of(spec.get("template") or {}).get("containers") or []
    return [joined([c.get("name", "") for c in containers]),
            joined([c.get("image", "") for c in containers]),
            label_selector_text(spec.get("selector"))]


def validate_selector_template(spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required("spec")]
    causes: list[Cause] = []
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = meta.labels(template)
    if not selector:
        causes.append(v.required("spec.selector"))
    else:
        try:
            sel = LabelSelector.from_object(selector)
        except BadRequest as exc:
            return [v.invalid("spec.selector", selector, exc.message)]
        if sel.empty:
            causes.append(v.invalid("spec.selector", selector, "empty selector is invalid for deployment"))
        elif not sel.matches(labels):
            causes.append(v.invalid("spec.template.metadata.labels", labels,
                                    "`selector` does not match template `labels`"))
    replicas = spec.get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        causes.append(v.invalid("spec.replicas", replicas, "must be greater than or equal to 0"))
    causes += validate_pod_spec(template.get("spec"), "spec.template.spec")
    return causes


@dataclass
class WorkloadStrategy(Strategy):
    tracks_generation: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("replicas", 1)
        default_template(spec)

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_selector_template(obj.get("spec"))

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        old_sel, new_sel = spec_of(old).get("selector"), spec_of(new).get("selector")
        if old_sel != new_sel:
            causes.append(v.immutable("spec.selector", new_sel))
        return causes

    def fields(self, obj: Obj) -> dict[str, str]:
        return {**super().fields(obj), "status.replicas": str(status_of(obj).get("replicas", 0))}


@dataclass
class DeploymentStrategy(WorkloadStrategy):
    def defaults(self, obj: Obj) -> None:
        super().defaults(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", "25%")
            ru.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Ready", description="Number of the pod with ready state"),
                column("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that "
                       "have the desired template spec."),
                column("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) "
                       "targeted by this deployment."),
                AGE_COLUMN, *WIDE]

    def row(self, obj: Obj) -> list[Any]:
        spec, status = spec_of(obj), status_of(obj)
        return [meta.name(obj), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
                int(status.get("updatedReplicas", 0)), int(status.get("availableReplicas", 0)),
                age(obj), *_template_cells(obj)]


@dataclass
class ReplicaSetStrategy(WorkloadStrategy):
    extra_fields: tuple[str, ...] = field(default=())

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Desired", "integer", "Replicas is the number of desired replicas."),
                column("Current", "integer", "Replicas is the most recently observed number of replicas."),
                column("Ready", "integer", "The number of ready replicas for this replica set."),
                AGE_COLUMN, *WIDE]

    def row(self, obj: Obj) -> list[Any]:
        spec, status = spec_of(obj), status_of(obj)
        return [meta.name(obj), int(spec.get("replicas", 0)), int(status.get("replicas", 0)),
                int(status.get("readyReplicas", 0)), age(obj), *_template_cells(obj)]


@dataclass
class DaemonSetStrategy(Strategy):
    tracks_generation: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", 1)
            ru.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        default_template(spec)

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj) + validate_selector_template(obj.get("spec"))
        spec = spec_of(obj)
        restart = spec_of(spec.get("template") or {}).get("restartPolicy")
        if restart != "Always":
            causes.append(v.not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
        kind = (spec.get("updateStrategy") or {}).get("type")
        if kind not in ("RollingUpdate", "OnDelete"):
            causes.append(v.not_supported("spec.updateStrategy.type", kind, ["OnDelete", "RollingUpdate"]))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if spec_of(old).get("selector") != spec_of(new).get("selector"):
            causes.append(v.immutable("spec.selector", spec_of(new).get("selector")))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
                column("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are "
                       "supposed to run the daemon pod."),
                column("Ready", "integer", "numberReady is the number of nodes that should be running the daemon "
                       "pod and have one or more of the daemon pod running with a Ready Condition."),
                column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
                column("Available", "integer", "The number of nodes that should be running the daemon pod and "
                       "have one or more of the daemon pod running and available (ready for at least "
                       "spec.minReadySeconds)"),
                column("Node Selector", description="NodeSelector is a selector which must be true for the pod to "
                       "fit on a node. Selector which must match a node's labels for the pod to be scheduled on "
                       "that node."),
                AGE_COLUMN, *WIDE]

    def row(self, obj: Obj) -> list[Any]:
        status = status_of(obj)
        node_selector = spec_of(spec_of(obj).get("template") or {}).get("nodeSelector") or {}
        return [meta.name(obj), int(status.get("desiredNumberScheduled", 0)),
                int(status.get("currentNumberScheduled", 0)), int(status.get("numberReady", 0)),
                int(status.get("updatedNumberScheduled", 0)), int(status.get("numberAvailable", 0)),
                joined([f"{k}={v}" for k, v in sorted(node_selector.items())]), age(obj), *_template_cells(obj)]


@dataclass
class ControllerRevisionStrategy(Strategy):
    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        revision = obj.get("revision")
        if not isinstance(revision, int) or revision < 0:
            causes.append(v.invalid("revision", revision, "must be greater than or equal to 0"))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if new.get("data") != old.get("data"):
            causes.append(v.immutable("data", new.get("data")))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Controller", description="Controller of the object."),
                column("Revision", "integer", "Revision indicates the revision of the state represented by Data."),
                AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        ref = meta.controller_ref(obj)
        owner = f"{ref.get('kind', '').lower()}.{ref.get('apiVersion', '').split('/')[0]}/{ref.get('name')}" \
            if ref else "<none>"
        return [meta.name(obj), owner, int(obj.get("revision", 0)), age(obj)]


DEPLOYMENTS = DeploymentStrategy(catalog.DEPLOYMENTS)
DAEMONSETS = DaemonSetStrategy(catalog.DAEMONSETS)
CONTROLLER_REVISIONS = ControllerRevisionStrategy(catalog.CONTROLLER_REVISIONS)
REPLICASETS = ReplicaSetStrategy(catalog.REPLICASETS)
