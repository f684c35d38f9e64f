"""Node-pressure eviction (upstream pkg/kubelet/eviction): hard thresholds on the node's signals,
the pressure conditions they raise, and one pod evicted per pass while a threshold is met.

Signals are measured: `memory.available` (capacity minus the node's working set),
`nodefs.available`/`nodefs.inodesFree` (statvfs of the kubelet's root dir) and `pid.available`
(pid_max minus running processes). A threshold is a quantity (`100Mi`) or a share of capacity
(`10%`); upstream's defaults apply when `evictionHard` is unset. A condition that was raised
stays for `evictionPressureTransitionPeriod` after its signal recovers. The pod to evict is
ranked as upstream: first pods using more than they requested, then lower priority, then the
largest use beyond the request; it gets a 1 s grace, phase Failed, reason Evicted and
upstream's message, also as an `Evicted` event.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.kube.kubelet.static_pods import CONFIG_MIRROR, CONFIG_SOURCE
from lab.kube.kubelet.stats import ContainerUsage
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.quantity import QuantityError, format_quantity, to_bytes

log = logging.getLogger(__name__)
DEFAULT_HARD = {"memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%",
                "imagefs.available": "15%"}
CONDITION = {"memory.available": "MemoryPressure", "nodefs.available": "DiskPressure",
             "nodefs.inodesFree": "DiskPressure", "imagefs.available": "DiskPressure",
             "imagefs.inodesFree": "DiskPressure", "pid.available": "PIDPressure"}
RESOURCE = {"MemoryPressure": "memory", "DiskPressure": "ephemeral-storage", "PIDPressure": "pids"}
MONITORING_PERIOD = 10.0  # upstream evictionMonitoringPeriod


class ThresholdError(ValueError):
    """An evictionHard entry that is not `<signal>: <quantity or percentage>`."""


@dataclass(frozen=True)
class Threshold:
    signal: str
    quantity: int = 0
    percentage: float = 0.0

    def value(self, capacity: int) -> int:
        return self.quantity if not self.percentage else int(capacity * self.percentage)

    def text(self, capacity: int) -> str:
        return format_quantity(self.value(capacity), binary=True)


def parse_thresholds(spec: dict[str, str]) -> list[Threshold]:
    out = []
    for signal, raw in spec.items():
        if signal not in CONDITION:
            raise ThresholdError(f"evictionHard: unsupported signal {signal!r} (one of {', '.join(sorted(CONDITION))})")
        text = str(raw).strip()
        try:
            if text.endswith("%"):
                share = float(text[:-1]) / 100
                if not 0 <= share <= 1:
                    raise ValueError
                out.append(Threshold(signal, percentage=share))
            else:
                out.append(Threshold(signal, quantity=to_bytes(text)))
        except (ValueError, QuantityError) as exc:
            raise ThresholdError(f"evictionHard: invalid value {raw!r} for {signal}") from exc
    return out


@dataclass(frozen=True)
class Signals:
    """Each signal's (available, capacity)."""

    values: dict[str, tuple[int, int]] = field(default_factory=dict)


def observe(root_dir: str, memory_capacity: int, memory_working_set: int,
            proc: Path = Path("/proc")) -> Signals:
    """The node's signals now (upstream makeSignalObservations)."""
    values = {"memory.available": (max(0, memory_capacity - memory_working_set), memory_capacity)}
    try:
        st = os.statvfs(root_dir if os.path.isdir(root_dir) else "/")
        values["nodefs.available"] = (st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize)
        values["imagefs.available"] = values["nodefs.available"]  # one filesystem, as the lab's machines have
        values["nodefs.inodesFree"] = (st.f_favail, st.f_files)
    except OSError:
        pass
    try:
        pid_max = int((proc / "sys/kernel/pid_max").read_text())
        running = sum(1 for p in proc.iterdir() if p.name.isdigit())
        values["pid.available"] = (pid_max - running, pid_max)
    except (OSError, ValueError):
        pass
    return Signals(values)


def met(thresholds: list[Threshold], signals: Signals) -> list[Threshold]:
    """The thresholds the signals cross now (available below the threshold)."""
    return [t for t in thresholds if t.signal in signals.values
            and signals.values[t.signal][0] < t.value(signals.values[t.signal][1])]


def _requested_memory(pod: Obj) -> dict[str, int]:
    out = {}
    for c in spec_of(pod).get("containers") or []:
        req = ((c.get("resources") or {}).get("requests") or {}).get("memory")
        out[c["name"]] = to_bytes(req) if req else 0
    return out


def rank_for_memory(pods: list[Obj], usage: dict[str, list[ContainerUsage]]) -> list[Obj]:
    """Upstream rankMemoryPressure: exceeding requests first, then lower priority, then use beyond the request."""
    def key(pod: Obj) -> tuple[bool, int, int]:
        used = sum(c.usage.working_set for c in usage.get(meta.uid(pod), []))
        requested = sum(_requested_memory(pod).values())
        return (used <= requested, int(spec_of(pod).get("priority") or 0), -(used - requested))
    return sorted(pods, key=key)


def rank_by_priority(pods: list[Obj]) -> list[Obj]:
    return sorted(pods, key=lambda p: int(spec_of(p).get("priority") or 0))


def eviction_message(condition: str, threshold: Threshold, signals: Signals, pod: Obj,
                     usage: dict[str, list[ContainerUsage]]) -> str:
    """Upstream evictionMessage."""
    resource = RESOURCE[condition]
    available, capacity = signals.values.get(threshold.signal, (0, 0))
    message = (f"The node was low on resource: {resource}. Threshold quantity: {threshold.text(capacity)}, "
               f"available: {format_quantity(available - available % 1024, binary=True)}. ")
    if resource == "memory":
        requested = _requested_memory(pod)
        for c in usage.get(meta.uid(pod), []):
            request = requested.get(c.name, 0)
            if c.usage.working_set > request:
                message += (f"Container {c.name} was using {format_quantity(c.usage.working_set, binary=True)}, "
                            f"request is {format_quantity(request, binary=True)}, has larger consumption of "
                            f"{resource}. ")
    return message


Evict = Callable[[Obj, str], Awaitable[None]]


class EvictionManager:
    def __init__(self, thresholds: list[Threshold], observe: Callable[[], Awaitable[Signals]],
                 pods: Callable[[], list[Obj]], containers: Callable[[], Awaitable[list[ContainerUsage]]],
                 evict: Evict, transition_period: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`observe` measures the signals, `pods` lists this node's pods, `containers` their use,
        `evict(pod, message)` ends one."""
        self.thresholds, self.observe, self.pods, self.containers = thresholds, observe, pods, containers
        self.evict, self.transition_period, self.clock = evict, transition_period, clock
        self._raised_at: dict[str, float] = {}  # condition -> when a threshold last held it

    def pressure(self) -> set[str]:
        """The node's pressure conditions now, kept through the transition period."""
        now = self.clock()
        return {c for c, at in self._raised_at.items() if now - at < self.transition_period}

    async def synchronize(self) -> Obj | None:
        """One pass: measure, raise conditions, and evict at most one pod. Returns the evicted pod."""
        signals = await self.observe()
        crossed = met(self.thresholds, signals)
        for t in crossed:
            self._raised_at[CONDITION[t.signal]] = self.clock()
        if not crossed:
            return None
        threshold = crossed[0]
        condition = CONDITION[threshold.signal]
        candidates = [p for p in self.pods() if status_of(p).get("phase") not in ("Succeeded", "Failed")
                      and not meta.is_deleting(p) and not _critical(p)]
        if not candidates:
            log.warning("eviction manager: %s, and no pod to evict", condition)
            return None
        usage: dict[str, list[ContainerUsage]] = {}
        for c in await self.containers():
            usage.setdefault(c.uid, []).append(c)
        ranked = rank_for_memory(candidates, usage) if condition == "MemoryPressure" else rank_by_priority(candidates)
        victim = ranked[0]
        message = eviction_message(condition, threshold, signals, victim, usage)
        log.info("eviction manager: evicting %s: %s", meta.key(victim), message)
        await self.evict(victim, message)
        return victim

    async def run(self, period: float = MONITORING_PERIOD) -> None:
        while True:
            try:
                await self.synchronize()
            except (OSError, ValueError) as exc:
                log.warning("eviction manager: %s", exc)
            await asyncio.sleep(period)


def _critical(pod: Obj) -> bool:
    """Static and mirror pods, and system-node-critical ones, are never evicted (upstream IsCriticalPod)."""
    annotations = meta.annotations(pod)
    return (annotations.get(CONFIG_SOURCE, "api") != "api" or CONFIG_MIRROR in annotations
            or int(spec_of(pod).get("priority") or 0) >= 2_000_000_000)
