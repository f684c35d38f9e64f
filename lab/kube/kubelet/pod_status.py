"""Compute a pod's `status` from the runtime snapshot (upstream kubelet_pods.go generateAPIPodStatus).

Pure: pod + PodRuntime + the kubelet's own waiting reasons (image pulls, back-off) in, the
status dict the kubelet PATCHes out. Phase, conditions and containerStatuses follow upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from lab.kube.kubelet.runtime_state import ContainerRecord, PodRuntime
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

TERMINAL = ("Succeeded", "Failed")
OWN_CONDITIONS = ("Initialized", "Ready", "ContainersReady", "PodScheduled")


@dataclass(frozen=True)
class Waiting:
    """Why a container is not running though the kubelet wants it to (ErrImagePull, CrashLoopBackOff...)."""

    reason: str
    message: str = ""


def rfc3339(ns: int) -> str | None:
    if ns <= 0:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def terminated(c: ContainerRecord, runtime_name: str) -> Obj:
    reason = c.reason or ("Completed" if c.exit_code == 0 else "Error")
    state: Obj = {"exitCode": c.exit_code, "reason": reason, "startedAt": rfc3339(c.started_at),
                  "finishedAt": rfc3339(c.finished_at), "containerID": f"{runtime_name}://{c.id}"}
    if c.message:
        state["message"] = c.message
    # no nulls: a merge patch would read them as "delete this field"
    return {"terminated": {k: v for k, v in state.items() if v is not None}}


class Probes(Protocol):
    """What the prober knows of a running container instance (pod uid, name, container id)."""

    def ready(self, uid: str, name: str, cid: str) -> bool: ...
    def started(self, uid: str, name: str, cid: str) -> bool: ...


class NoProbes:
    """Ready and started once running: a container without probes."""

    def ready(self, uid: str, name: str, cid: str) -> bool:
        return True

    def started(self, uid: str, name: str, cid: str) -> bool:
        return True


NO_PROBES = NoProbes()


def container_status(spec: Obj, rt: PodRuntime, waiting: Waiting | None, runtime_name: str,
                     probes: Probes = NO_PROBES, uid: str = "") -> Obj:
    name = spec["name"]
    latest, previous = rt.latest(name), rt.previous(name)
    status: Obj = {"name": name, "image": spec.get("image", ""), "imageID": "", "ready": False,
                   "restartCount": 0, "started": False, "lastState": {},
                   "state": {"waiting": {"reason": "ContainerCreating"}}}
    if latest is None:
        if waiting:
            status["state"] = {"waiting": _waiting(waiting)}
        return status
    status.update(restartCount=latest.restart_count, imageID=latest.image_ref,
                  containerID=f"{runtime_name}://{latest.id}")
    if latest.running:
        status.update(state={"running": {"startedAt": rfc3339(latest.started_at) or rfc3339(latest.created_at)}},
                      ready=probes.ready(uid, name, latest.id), started=probes.started(uid, name, latest.id))
        if previous is not None and previous.exited:
            status["lastState"] = terminated(previous, runtime_name)
    elif latest.exited and waiting is not None:  # about to restart (or backing off)
        status.update(state={"waiting": _waiting(waiting)}, lastState=terminated(latest, runtime_name))
    elif latest.exited:
        status["state"] = terminated(latest, runtime_name)
        if previous is not None and previous.exited:
            status["lastState"] = terminated(previous, runtime_name)
    elif waiting is not None:
        status["state"] = {"waiting": _waiting(waiting)}
    return status


def _waiting(w: Waiting) -> Obj:
    return {"reason": w.reason, "message": w.message} if w.message else {"reason": w.reason}


def phase(pod: Obj, statuses: list[Obj]) -> str:
    """Upstream getPhase, without init containers."""
    if status_of(pod).get("phase") in TERMINAL:
        return str(pod["status"]["phase"])  # terminal phases never change back
    policy = spec_of(pod).get("restartPolicy") or "Always"
    running = waiting = stopped = succeeded = 0
    for s in statuses:
        state = s["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif s.get("lastState", {}).get("terminated"):
            stopped += 1  # waiting to restart after a termination counts as stopped, as upstream
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def conditions(pod: Obj, statuses: list[Obj], pod_phase: str, now: str) -> list[Obj]:
    old = {c.get("type"): c for c in status_of(pod).get("conditions") or []}
    unready = [s["name"] for s in statuses if not s["ready"]]
    if pod_phase in TERMINAL:
        ready: tuple[str, str, str] = ("False", "PodCompleted", "")
    elif unready:
        ready = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    else:
        ready = ("True", "", "")
    wanted = {"Initialized": ("True", "", ""), "Ready": ready, "ContainersReady": ready,
              "PodScheduled": ("True", "", "")}
    out = [c for t, c in old.items() if t not in OWN_CONDITIONS]  # readiness gates, DisruptionTarget...
    for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled"):
        status, reason, message = wanted[kind]
        prev = old.get(kind) or {}
        changed = prev.get("status") != status or not prev.get("lastTransitionTime")
        cond: Obj = {"type": kind, "status": status,
                     "lastTransitionTime": now if changed else prev["lastTransitionTime"]}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        out.append(cond)
    return out


def qos_class(pod: Obj) -> str:
    containers = spec_of(pod).get("containers") or []
    requests = [(c.get("resources") or {}).get("requests") or {} for c in containers]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    for req, lim in zip(requests, limits, strict=True):
        for res in ("cpu", "memory"):
            if res not in lim or str(req.get(res, lim[res])) != str(lim[res]):
                return "Burstable"
    return "Guaranteed"


def pod_status(pod: Obj, rt: PodRuntime, waiting: dict[str, Waiting], node_ip: str, runtime_name: str,
               host_network: bool = False, probes: Probes = NO_PROBES) -> Obj:
    now = meta.now()
    old = status_of(pod)
    specs = spec_of(pod).get("containers") or []
    statuses = [container_status(c, rt, waiting.get(c["name"]), runtime_name, probes, meta.uid(pod)) for c in specs]
    pod_phase = phase(pod, statuses)
    status: Obj = {"phase": pod_phase, "conditions": conditions(pod, statuses, pod_phase, now),
                   "hostIP": node_ip, "hostIPs": [{"ip": node_ip}] if node_ip else [],
                   "startTime": old.get("startTime") or now, "containerStatuses": statuses,
                   "qosClass": old.get("qosClass") or qos_class(pod)}
    sandbox = rt.sandbox
    ip = node_ip if host_network else (sandbox.ip if sandbox and sandbox.ready else "")
    ip = ip or old.get("podIP", "")  # keep the IP a stopped pod had, as upstream does
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return status
