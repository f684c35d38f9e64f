"""Compute a pod's `status` from the runtime snapshot (upstream kubelet_pods.go generateAPIPodStatus).

Pure: pod + PodRuntime + the kubelet's own waiting reasons (image pulls, back-off) in, the
status dict the kubelet PATCHes out. Phase, conditions and containerStatuses follow upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from lab.kube.kubelet.pod_spec import is_sidecar, sidecar_names
from lab.kube.kubelet.runtime_state import ContainerRecord, PodRuntime
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

TERMINAL = ("Succeeded", "Failed")
OWN_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


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
                     probes: Probes = NO_PROBES, uid: str = "", *, has_init: bool = False,
                     regular_init: bool = False, ephemeral: bool = False) -> Obj:
    """One container's status; before it first runs it waits in ContainerCreating, or PodInitializing
    in a pod with init containers. A `regular_init` container is ready once it completed, an
    `ephemeral` one never (nothing probes it)."""
    name = spec["name"]
    latest, previous = rt.latest(name), rt.previous(name)
    status: Obj = {"name": name, "image": spec.get("image", ""), "imageID": "", "ready": False,
                   "restartCount": 0, "started": False, "lastState": {},
                   "state": {"waiting": {"reason": "PodInitializing" if has_init else "ContainerCreating"}}}
    if latest is None:
        if waiting:
            status["state"] = {"waiting": _waiting(waiting)}
        return status
    status.update(restartCount=latest.restart_count, imageID=latest.image_ref,
                  containerID=f"{runtime_name}://{latest.id}")
    if latest.running:
        status.update(state={"running": {"startedAt": rfc3339(latest.started_at) or rfc3339(latest.created_at)}},
                      ready=not regular_init and not ephemeral and probes.ready(uid, name, latest.id),
                      started=probes.started(uid, name, latest.id))
        if previous is not None and previous.exited:
            status["lastState"] = terminated(previous, runtime_name)
    elif latest.exited and waiting is not None:  # about to restart (or backing off)
        status.update(state={"waiting": _waiting(waiting)}, lastState=terminated(latest, runtime_name))
    elif latest.exited:
        status["state"] = terminated(latest, runtime_name)
        status["ready"] = regular_init and latest.exit_code == 0
        if previous is not None and previous.exited:
            status["lastState"] = terminated(previous, runtime_name)
    elif waiting is not None:
        status["state"] = {"waiting": _waiting(waiting)}
    return status


def _waiting(w: Waiting) -> Obj:
    return {"reason": w.reason, "message": w.message} if w.message else {"reason": w.reason}


def _last_terminated(s: Obj) -> Obj | None:
    return (s.get("lastState") or {}).get("terminated")


def phase(pod: Obj, statuses: list[Obj], init_statuses: Sequence[Obj] = ()) -> str:
    """Upstream getPhase: regular init containers must succeed first (a failure fails a Never pod),
    sidecars must have started; then the regular containers decide."""
    if status_of(pod).get("phase") in TERMINAL:
        return str(pod["status"]["phase"])  # terminal phases never change back
    s = spec_of(pod)
    policy = s.get("restartPolicy") or "Always"
    by_name = {st["name"]: st for st in init_statuses}
    pending_init = failed_init = pending_sidecars = 0
    running = waiting = stopped = succeeded = 0
    for c in s.get("initContainers") or []:
        st = by_name.get(c["name"])
        state = (st or {}).get("state") or {}
        if is_sidecar(c):
            if st is None:
                pending_sidecars += 1
            elif "running" in state:
                pending_sidecars += not st.get("started")
                running += 1
            elif "waiting" in state and not _last_terminated(st):
                pending_sidecars += 1
                waiting += 1
            continue
        if "terminated" in state:
            failed_init += state["terminated"]["exitCode"] != 0
        elif "waiting" in state and (last := _last_terminated(st or {})):
            failed_init += last["exitCode"] != 0
        else:
            pending_init += 1
    for st in statuses:
        state = st["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif _last_terminated(st):
            stopped += 1  # waiting to restart after a termination counts as stopped, as upstream
        else:
            waiting += 1
    if failed_init and policy == "Never":
        return "Failed"
    if pending_init or (pending_sidecars and running + waiting + stopped + succeeded == 0):
        return "Pending"
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


def _condition(prev: Obj | None, kind: str, status: str, reason: str, message: str, now: str) -> Obj:
    prev = prev or {}
    changed = prev.get("status") != status or not prev.get("lastTransitionTime")
    cond: Obj = {"type": kind, "status": status, "lastTransitionTime": now if changed else prev["lastTransitionTime"]}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _names(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"  # Go's %s of a []string


def initialized(pod: Obj, statuses: list[Obj], init_statuses: Sequence[Obj], pod_phase: str) -> tuple[str, str, str]:
    """Upstream GeneratePodInitializedCondition."""
    inits = spec_of(pod).get("initContainers") or []
    if not inits:
        return "True", "", ""
    by_name = {st["name"]: st for st in init_statuses}
    unknown = [c["name"] for c in inits if c["name"] not in by_name]
    incomplete = [c["name"] for c in inits if c["name"] in by_name
                  and not by_name[c["name"]].get("started" if is_sidecar(c) else "ready")]
    if pod_phase == "Succeeded" and not unknown:
        return "True", "PodCompleted", ""
    if any("waiting" not in st["state"] for st in statuses):
        return "True", "", ""  # a regular container ran: initialized before (sidecars may be restarting)
    return _verdict("ContainersNotInitialized", unknown, "incomplete", incomplete)


def _verdict(reason: str, unknown: list[str], kind: str, failing: list[str]) -> tuple[str, str, str]:
    """True, or False with upstream's "containers with unknown status: [..], containers with <kind> status: [..]"."""
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_names(unknown)}")
    if failing:
        messages.append(f"containers with {kind} status: {_names(failing)}")
    return ("False", reason, ", ".join(messages)) if messages else ("True", "", "")


def containers_ready(pod: Obj, statuses: list[Obj], init_statuses: Sequence[Obj],
                     pod_phase: str) -> tuple[str, str, str]:
    """Upstream GenerateContainersReadyCondition: sidecars and regular containers all ready."""
    by_name = {st["name"]: st for st in [*init_statuses, *statuses]}
    s = spec_of(pod)
    names = sidecar_names(pod)
    names += [c["name"] for c in s.get("containers") or []]
    unknown = [n for n in names if n not in by_name]
    unready = [n for n in names if n in by_name and not by_name[n]["ready"]]
    if pod_phase == "Succeeded" and not unknown:
        return "False", "PodCompleted", ""
    return _verdict("ContainersNotReady", unknown, "unready", unready)


def conditions(pod: Obj, statuses: list[Obj], pod_phase: str, now: str, init_statuses: Sequence[Obj] = (),
               sandbox_ready: bool = True) -> list[Obj]:
    old = {c.get("type"): c for c in status_of(pod).get("conditions") or []}
    ready = containers_ready(pod, statuses, init_statuses, pod_phase)
    wanted = {"PodReadyToStartContainers": ("True" if sandbox_ready else "False", "", ""),
              "Initialized": initialized(pod, statuses, init_statuses, pod_phase),
              "Ready": ready, "ContainersReady": ready, "PodScheduled": ("True", "", "")}
    out = [c for t, c in old.items() if t not in OWN_CONDITIONS]  # readiness gates, DisruptionTarget...
    out += [_condition(old.get(kind), kind, *wanted[kind], now) for kind in OWN_CONDITIONS]
    return out


def qos_class(pod: Obj) -> str:
    containers = [*(spec_of(pod).get("initContainers") or []), *(spec_of(pod).get("containers") or [])]
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
    s, uid = spec_of(pod), meta.uid(pod)
    inits = s.get("initContainers") or []
    has_init = bool(inits)
    init_statuses = [container_status(c, rt, waiting.get(c["name"]), runtime_name, probes, uid, has_init=True,
                                      regular_init=not is_sidecar(c)) for c in inits]
    statuses = [container_status(c, rt, waiting.get(c["name"]), runtime_name, probes, uid, has_init=has_init)
                for c in s.get("containers") or []]
    pod_phase = phase(pod, statuses, init_statuses)
    sandbox = rt.sandbox
    status: Obj = {"phase": pod_phase,
                   "conditions": conditions(pod, statuses, pod_phase, now, init_statuses,
                                            sandbox_ready=sandbox is not None and sandbox.ready),
                   "hostIP": node_ip, "hostIPs": [{"ip": node_ip}] if node_ip else [],
                   "startTime": old.get("startTime") or now, "containerStatuses": statuses,
                   "qosClass": old.get("qosClass") or qos_class(pod)}
    if has_init:
        status["initContainerStatuses"] = init_statuses
    if s.get("ephemeralContainers"):
        status["ephemeralContainerStatuses"] = [
            container_status(c, rt, waiting.get(c["name"]), runtime_name, probes, uid, has_init=has_init,
                             ephemeral=True) for c in s["ephemeralContainers"]]
    ip = node_ip if host_network else (sandbox.ip if sandbox and sandbox.ready else "")
    ip = ip or old.get("podIP", "")  # keep the IP a stopped pod had, as upstream does
    if ip:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return status
