"""The READY, STATUS and RESTARTS cells of a pod's table row, as kubectl's printPod (1.30) makes them.

Sidecars (restartable init containers) count toward READY once started; while the pod
initializes, STATUS is `Init:<n>/<total>`, `Init:<reason>` or `Init:Error`; afterwards the
regular containers decide (a waiting or terminated reason wins, `Completed` with one still
running is `Running` or `NotReady`). RESTARTS adds `(<age> ago)` of the last restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lab.kube.apiserver.printers import human_duration
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

TERMINAL = ("Succeeded", "Failed")


@dataclass
class PodCells:
    ready: str
    status: str
    restarts: str


def _terminated_reason(term: Obj, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode')}"


class _Restarts:
    def __init__(self) -> None:
        self.count = 0
        self.last: datetime | None = None

    def add(self, s: Obj) -> None:
        self.count += int(s.get("restartCount") or 0)
        finished = ((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished:
            at = meta.parse_time(finished)
            self.last = at if self.last is None or at > self.last else self.last

    def text(self, now: datetime) -> str:
        if self.count and self.last is not None:
            return f"{self.count} ({human_duration((now - self.last).total_seconds())} ago)"
        return str(self.count)


def pod_cells(obj: Obj, now: datetime | None = None) -> PodCells:
    spec, status = spec_of(obj), status_of(obj)
    now = now or datetime.now(UTC)
    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or phase or "Unknown")
    conditions = status.get("conditions") or []
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"
    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecars = {n for n, c in inits.items() if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = 0
    restarts, sidecar_restarts = _Restarts(), _Restarts()
    initializing = False
    for i, s in enumerate(status.get("initContainerStatuses") or []):
        restarts.add(s)
        if s.get("name") in sidecars:
            sidecar_restarts.add(s)
        state = s.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting") or {}
        if term and term.get("exitCode") == 0:
            continue
        if s.get("name") in sidecars and s.get("started"):
            ready += bool(s.get("ready"))
            continue
        if term:
            reason = _terminated_reason(term, "Init:")
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True" for c in conditions)
    if not initializing or initialized:
        restarts = sidecar_restarts
        running = False
        for s in reversed(status.get("containerStatuses") or []):
            restarts.add(s)
            state = s.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = str(state["waiting"]["reason"])
            elif state.get("terminated"):
                reason = _terminated_reason(state["terminated"])
            elif s.get("ready") and "running" in state:
                running = True
                ready += 1
        if reason == "Completed" and running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"
    if meta.is_deleting(obj) and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.is_deleting(obj) and phase not in TERMINAL:
        reason = "Terminating"
    return PodCells(f"{ready}/{total}", reason, restarts.text(now))
