"""Pods: defaults (restartPolicy, dnsPolicy, grace period, pull policy, QoS), validation,
graceful deletion for bound pods, the `spec.nodeName`/`status.phase` field selectors and
the READY/STATUS/RESTARTS table."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.apiserver.strategies.pod_table import pod_cells
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj, spec_of, status_of

DEFAULT_GRACE = 30
RESTART_POLICIES = ["Always", "OnFailure", "Never"]
# fields a pod update may change (upstream ValidatePodUpdate)
MUTABLE_SPEC = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


def default_container(c: dict[str, Any]) -> None:
    image = str(c.get("image") or "")
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")


def default_pod_spec(spec: dict[str, Any]) -> None:
    """PodSpec defaults, shared with the pod templates of Deployments and ReplicaSets."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", DEFAULT_GRACE)
    spec.setdefault("securityContext", {})
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                default_container(c)


def default_template(spec: dict[str, Any]) -> None:
    """A workload's `spec.template`: metadata present, its pod spec defaulted."""
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        if isinstance(template.get("spec"), dict):
            default_pod_spec(template["spec"])


def qos_class(spec: dict[str, Any]) -> str:
    containers = [c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                  if isinstance(c, dict)]
    requests_any = limits_any = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests_any |= bool(req)
        limits_any |= bool(lim)
        for r in ("cpu", "memory"):
            if r not in lim or str(req.get(r, lim[r])) != str(lim[r]):
                guaranteed = False
    if not requests_any and not limits_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required(path)]
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(v.required(f"{path}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            p = f"{path}.{key}[{i}]"
            if not isinstance(c, dict):
                causes.append(v.invalid(p, c, "must be an object"))
                continue
            cname = c.get("name")
            if not cname:
                causes.append(v.required(f"{p}.name"))
            else:
                causes += v.name_causes(str(cname), label=True, field=f"{p}.name")
                if cname in seen:
                    causes.append(v.duplicate(f"{p}.name", cname))
                seen.add(cname)
            if not c.get("image"):
                causes.append(v.required(f"{p}.image"))
            for j, port in enumerate(c.get("ports") or []):
                num = port.get("containerPort") if isinstance(port, dict) else None
                if not isinstance(num, int) or not 1 <= num <= 65535:
                    causes.append(v.invalid(f"{p}.ports[{j}].containerPort", num,
                                            "must be between 1 and 65535, inclusive"))
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in RESTART_POLICIES:
        causes.append(v.not_supported(f"{path}.restartPolicy", rp, RESTART_POLICIES))
    return causes


# what an ephemeral container may not have (upstream validateEphemeralContainers)
EPHEMERAL_FORBIDDEN = ("ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resizePolicy",
                       "restartPolicy")


def validate_ephemeral_containers(new: Obj, old: Obj) -> list[Cause]:
    """Upstream ValidatePodEphemeralContainersUpdate: existing ones stay as they are, new ones are
    named uniquely, have an image, none of the fields only a regular container may have, and a
    target that is one of the pod's containers."""
    causes: list[Cause] = []
    path = "spec.ephemeralContainers"
    new_spec, old_spec = spec_of(new), spec_of(old)
    added = [c for c in new_spec.get("ephemeralContainers") or [] if isinstance(c, dict)]
    by_name = {c.get("name"): c for c in added}
    for c in old_spec.get("ephemeralContainers") or []:
        if c.get("name") not in by_name:
            causes.append(v.forbidden(path, f'existing ephemeral containers "{c.get("name")}" may not be removed\n'))
        elif by_name[c.get("name")] != c:
            causes.append(v.forbidden(path, f'existing ephemeral containers "{c.get("name")}" may not be changed\n'))
    regular = {c.get("name") for key in ("containers", "initContainers") for c in new_spec.get(key) or []
               if isinstance(c, dict)}
    seen: set[str] = set()
    for i, c in enumerate(added):
        p = f"{path}[{i}]"
        name = str(c.get("name") or "")
        if not name:
            causes.append(v.required(f"{p}.name"))
        else:
            causes += v.name_causes(name, label=True, field=f"{p}.name")
            if name in regular or name in seen:
                causes.append(v.duplicate(f"{p}.name", name))
            seen.add(name)
        if not c.get("image"):
            causes.append(v.required(f"{p}.image"))
        for key in EPHEMERAL_FORBIDDEN:
            if c.get(key):
                causes.append(v.forbidden(f"{p}.{key}", "cannot be set for an Ephemeral Container"))
        if any((c.get("resources") or {}).values()):
            causes.append(v.forbidden(f"{p}.resources", "cannot be set for an Ephemeral Container"))
        target = c.get("targetContainerName")
        if target and target not in regular:
            causes.append(v.not_found(f"{p}.targetContainerName", target))
    return causes


def _strip_mutable(spec: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    for k in MUTABLE_SPEC:
        out.pop(k, None)
    for key in ("containers", "initContainers"):
        for c in out.get(key) or []:
            if isinstance(c, dict):
                c.pop("image", None)
    return out


@dataclass
class PodStrategy(Strategy):
    return_deleted_object: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_pod_spec(spec)
            spec.setdefault("enableServiceLinks", True)

    def initial_status(self, obj: Obj) -> Any:
        return {"phase": "Pending", "qosClass": qos_class(spec_of(obj))}

    def prepare_for_status_update(self, new: Obj, old: Obj) -> Obj:
        out = super().prepare_for_status_update(new, old)
        out["status"].setdefault("qosClass", status_of(old).get("qosClass"))
        return out

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_pod_spec(obj.get("spec"), "spec")

    def prepare_for_ephemeral_containers_update(self, new: Obj, old: Obj) -> Obj:
        """Only spec.ephemeralContainers comes from the request (upstream ephemeralContainersStrategy)."""
        out = copy.deepcopy(old)
        added = copy.deepcopy(spec_of(new).get("ephemeralContainers") or [])
        for c in added:
            if isinstance(c, dict):
                default_container(c)
        out.setdefault("spec", {})["ephemeralContainers"] = added
        return out

    def validate_ephemeral_containers_update(self, new: Obj, old: Obj) -> list[Cause]:
        return self.validate(new) + validate_ephemeral_containers(new, old)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if _strip_mutable(spec_of(new)) != _strip_mutable(spec_of(old)):
            causes.append(v.forbidden("spec", "pod updates may not change fields other than "
                                      "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                                      "`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                                      "additions to existing tolerations),"
                                      "`spec.terminationGracePeriodSeconds` (allow it to be set "
                                      "to 1 if it was previously negative)"))
        return causes

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec, status = spec_of(obj), status_of(obj)
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0  # nothing runs it: no kubelet will confirm the deletion
        if requested is not None:
            return requested
        current = meta.metadata(obj).get("deletionGracePeriodSeconds")
        if current is not None:
            return int(current)
        return int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE))

    def fields(self, obj: Obj) -> dict[str, str]:
        spec, status = spec_of(obj), status_of(obj)
        return {**super().fields(obj),
                "spec.nodeName": str(spec.get("nodeName") or ""),
                "spec.restartPolicy": str(spec.get("restartPolicy") or ""),
                "spec.schedulerName": str(spec.get("schedulerName") or ""),
                "spec.serviceAccountName": str(spec.get("serviceAccountName") or ""),
                "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
                "status.phase": str(status.get("phase") or ""),
                "status.podIP": str(status.get("podIP") or ""),
                "status.nominatedNodeName": str(status.get("nominatedNodeName") or "")}

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
                column("Status", description="The aggregate status of the containers in this pod."),
                column("Restarts", description="The number of times the containers in this pod have been restarted and "
                       "when the last container in this pod has restarted."),
                AGE_COLUMN,
                column("IP", priority=1, description="IP address allocated to the pod. Routable at least within the "
                       "cluster. Empty if not yet allocated."),
                column("Node", priority=1, description="NodeName is a request to schedule this pod onto a specific "
                       "node."),
                column("Nominated Node", priority=1, description="nominatedNodeName is set only when this pod preempts "
                       "other pods on the node."),
                column("Readiness Gates", priority=1, description="If specified, all readiness gates will be evaluated "
                       "for pod readiness.")]

    def row(self, obj: Obj) -> list[Any]:
        spec, status = spec_of(obj), status_of(obj)
        cells = pod_cells(obj)
        gates = spec.get("readinessGates") or []
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        gates_text = (f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}"
                      f"/{len(gates)}") if gates else "<none>"
        return [meta.name(obj), cells.ready, cells.status, cells.restarts, age(obj), status.get("podIP") or "<none>",
                spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text]


STRATEGY = PodStrategy(catalog.PODS)
