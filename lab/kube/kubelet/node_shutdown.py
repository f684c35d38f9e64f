"""Graceful node shutdown (upstream pkg/kubelet/nodeshutdown): pods stop before the machine does.

With `shutdownGracePeriod` (or `shutdownGracePeriodByPodPriority`) set, the kubelet holds a
logind `delay` inhibitor lock. When logind announces `PrepareForShutdown(true)` the manager
records a `NodeShutdown` event on the Node, turns the Node NotReady ("node is shutting down"),
rejects new pods, and stops the running ones group by group, lowest priority first: each pod
gets min(its terminationGracePeriodSeconds, the group's period), ends Failed with reason
`Terminated` and a `DisruptionTarget` condition, and the next group starts once all are
stopped or the group's period is over. Then the lock is released and the shutdown goes on.
`PrepareForShutdown(false)` (a cancelled shutdown) takes the lock again. A lost bus is
reconnected every second.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from lab.kube.kubelet.logind import Logind, LogindError
from lab.kube.kubelet.pod_sync import grace_period
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
REASON = "Terminated"
MESSAGE = "Pod was terminated in response to imminent node shutdown."
NOT_ADMITTED_REASON = "NodeShutdown"
NOT_ADMITTED_MESSAGE = "Pod was rejected as the node is shutting down."
DEFAULT_PRIORITY = 0  # scheduling.DefaultPriorityWhenNoDefaultClassExists
SYSTEM_CRITICAL_PRIORITY = 2_000_000_000  # scheduling.SystemCriticalPriority
RECONNECT_PERIOD = 1.0  # upstream dbusReconnectPeriod


@dataclass(frozen=True)
class PriorityGrace:
    """shutdownGracePeriodByPodPriority's entry: pods of at least `priority` get `seconds`."""

    priority: int
    seconds: int


@dataclass
class ShutdownGroup:
    grace: PriorityGrace
    pods: list[Obj] = field(default_factory=list)


def plan(grace: float, critical: float, by_priority: Sequence[PriorityGrace] = ()) -> list[PriorityGrace]:
    """The periods by priority, low to high; from shutdownGracePeriod and ...CriticalPods when
    no per-priority list is given (upstream migrateConfig). Empty: graceful shutdown is off."""
    if by_priority:
        return sorted(by_priority, key=lambda g: g.priority)
    if grace <= 0 or critical > grace:
        return []
    return [PriorityGrace(DEFAULT_PRIORITY, int(grace - critical)),
            PriorityGrace(SYSTEM_CRITICAL_PRIORITY, int(critical))]


def requested(periods: Sequence[PriorityGrace]) -> int:
    """Seconds the whole shutdown may take: what logind's InhibitDelayMaxSec must allow."""
    return sum(g.seconds for g in periods)


def group_by_priority(periods: Sequence[PriorityGrace], pods: Sequence[Obj]) -> list[ShutdownGroup]:
    """Each pod into the group of the highest priority not above its own (the lowest group for
    those below every group); upstream's groupByPriority."""
    groups = [ShutdownGroup(g) for g in periods]
    bounds = [g.priority for g in periods]
    for pod in pods:
        priority = spec_of(pod).get("priority")
        index = bisect.bisect_right(bounds, priority if isinstance(priority, int) else 0) - 1
        groups[max(0, index)].pods.append(pod)
    return groups


def pod_grace(pod: Obj, group_seconds: int) -> int:
    return min(grace_period(pod), group_seconds)


class NodeShutdownManager:
    def __init__(self, periods: list[PriorityGrace], logind: Callable[[], Logind],
                 active_pods: Callable[[], list[Obj]], terminate: Callable[[Obj, int], Awaitable[None]],
                 node_event: Callable[[str], None], node_status: Callable[[], Awaitable[None]],
                 reconnect: float = RECONNECT_PERIOD) -> None:
        """`logind` makes a fresh connection; `terminate(pod, grace)` stops a pod and fails it;
        `node_event(message)` records a NodeShutdown event; `node_status()` posts it now."""
        self.periods, self.logind, self.active_pods, self.terminate = periods, logind, active_pods, terminate
        self.node_event, self.node_status, self.reconnect = node_event, node_status, reconnect
        self.shutting_down = False
        self.lock: int | None = None

    async def run(self) -> None:
        log.info("Creating node shutdown manager: %s", ", ".join(
            f"priority {g.priority}: {g.seconds}s" for g in self.periods))
        while True:
            bus = self.logind()
            try:
                await self._watch(bus)
            except LogindError as exc:
                log.error("Unable to watch the node for shutdown events: %s", exc)
            finally:
                await bus.close()
            await asyncio.sleep(self.reconnect)
            log.info("Restarting watch for node shutdown events")

    async def _watch(self, bus: Logind) -> None:
        await bus.connect()
        want = requested(self.periods)
        if want > await bus.inhibit_delay():
            await bus.override_inhibit_delay(want)
            now = await bus.inhibit_delay()
            if want > now:
                raise LogindError(f"node shutdown manager was unable to update logind InhibitDelayMaxSec to {want}s "
                                  f"(ShutdownGracePeriod), current value of InhibitDelayMaxSec ({now:g}s) is less "
                                  "than requested ShutdownGracePeriod")
        await self._acquire(bus)
        async for shutting_down in bus.shutdown_events():
            log.info("Shutdown manager detected new shutdown event: %s", "shutdown" if shutting_down else "cancelled")
            self.node_event("Shutdown manager detected shutdown event" if shutting_down
                            else "Shutdown manager detected shutdown cancellation")
            self.shutting_down = shutting_down
            if shutting_down:  # the Node's NotReady goes out while the pods stop, as upstream's `go syncNodeStatus()`
                posted = asyncio.create_task(self._post_status())
                await self.stop_pods()
                await posted
                self._release(bus)
                log.info("Shutdown manager completed processing shutdown event, node will shutdown shortly")
            else:
                await self._acquire(bus)

    async def _acquire(self, bus: Logind) -> None:
        lock = await bus.inhibit_shutdown()
        self._release(bus)
        self.lock = lock

    def _release(self, bus: Logind) -> None:
        if self.lock is not None:
            bus.release(self.lock)
            self.lock = None

    async def _post_status(self) -> None:
        try:
            await self.node_status()
        except Exception as exc:  # the pods must still stop: the API may be gone already
            log.warning("Posting the node status on shutdown failed: %s", exc)

    async def stop_pods(self) -> None:
        """Stop the active pods, group by group, each group waited at most its period."""
        for group in group_by_priority(self.periods, self.active_pods()):
            if not group.pods:
                continue
            tasks = [asyncio.create_task(self._stop(pod, pod_grace(pod, group.grace.seconds)))
                     for pod in group.pods]
            _done, pending = await asyncio.wait(tasks, timeout=group.grace.seconds)
            if pending:  # they go on stopping; the next group does not wait for them
                log.info("Shutdown manager pod killing time out: gracePeriod %ss priority %s, %d pods left",
                         group.grace.seconds, group.grace.priority, len(pending))

    async def _stop(self, pod: Obj, grace: int) -> None:
        log.info("Shutdown manager killing pod %s with gracePeriod %ss", meta.key(pod), grace)
        try:
            await self.terminate(pod, grace)
        except Exception as exc:  # one pod's failure must not keep the others running
            log.warning("Shutdown manager failed killing pod %s: %s", meta.key(pod), exc)
