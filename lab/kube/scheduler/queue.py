"""The scheduling queue: activeQ (a heap ordered by QueueSort), backoffQ and unschedulable pods.

A pod that failed waits in `unschedulable` until a cluster event (node added or changed,
an assigned pod deleted) could make it fit, then sits out its backoff (1 s doubling to
10 s per attempt) before going back to activeQ, as upstream `PriorityQueue`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj
from lab.kube.scheduler.framework import QueuedPodInfo

Less = Callable[[QueuedPodInfo, QueuedPodInfo], bool]
INITIAL_BACKOFF, MAX_BACKOFF = 1.0, 10.0
MAX_IN_UNSCHEDULABLE = 300.0  # upstream podMaxInUnschedulablePodsDuration: retry at least every 5 min
FLUSH_PERIOD = 1.0


def _scheduling_relevant(pod: Obj) -> tuple[Any, Any, Any]:
    """What a user can change to make a pod fit: spec, labels, annotations (upstream isPodUpdated)."""
    return pod.get("spec"), meta.labels(pod), meta.annotations(pod)


class _Entry:
    """A heap slot; ordering delegates to the QueueSort plugin."""

    __slots__ = ("info", "less", "seq")

    def __init__(self, info: QueuedPodInfo, less: Less, seq: int) -> None:
        self.info, self.less, self.seq = info, less, seq

    def __lt__(self, other: _Entry) -> bool:
        if self.less(self.info, other.info):
            return True
        if self.less(other.info, self.info):
            return False
        return self.seq < other.seq


class SchedulingQueue:
    def __init__(self, less: Less, clock: Callable[[], float] = time.monotonic,
                 initial_backoff: float = INITIAL_BACKOFF, max_backoff: float = MAX_BACKOFF) -> None:
        self.less = less
        self.clock = clock
        self.initial_backoff, self.max_backoff = initial_backoff, max_backoff
        self._heap: list[_Entry] = []
        self._active: dict[str, QueuedPodInfo] = {}
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.scheduling_cycle = 0
        self._move_request_cycle = -1

    # --- what the informer handlers call -------------------------------------------------
    def add(self, pod: Obj) -> None:
        key = meta.key(pod)
        self._backoff.pop(key, None)
        self._unschedulable.pop(key, None)
        info = self._active.get(key) or QueuedPodInfo(pod, self.clock(), initial_attempt_timestamp=self.clock())
        info.pod = pod
        self._push(info)

    def update(self, pod: Obj) -> None:
        """A newer version of a queued pod: refresh it; an unschedulable pod that changed may fit now."""
        key = meta.key(pod)
        for where in (self._active, self._backoff):
            if key in where:
                where[key].pod = pod
                return
        info = self._unschedulable.get(key)
        if info is None:
            self.add(pod)
            return
        changed = _scheduling_relevant(info.pod) != _scheduling_relevant(pod)
        info.pod = pod
        if changed:  # our own status writes (PodScheduled=False) must not retry the pod
            del self._unschedulable[key]
            self._requeue(info)

    def delete(self, pod: Obj) -> None:
        key = meta.key(pod)
        self._active.pop(key, None)  # the heap entry goes stale and is skipped in pop
        self._backoff.pop(key, None)
        self._unschedulable.pop(key, None)

    def move_all_to_active_or_backoff(self, event: str = "") -> None:
        """A cluster event happened: every unschedulable pod gets another chance."""
        for info in list(self._unschedulable.values()):
            del self._unschedulable[info.key]
            self._requeue(info)
        self._move_request_cycle = self.scheduling_cycle

    # --- what the scheduling loop calls --------------------------------------------------
    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule (None once closed); counts a scheduling cycle."""
        while not self._closed:
            while self._heap:
                entry = heapq.heappop(self._heap)
                if self._active.get(entry.info.key) is entry.info:
                    del self._active[entry.info.key]
                    entry.info.attempts += 1
                    self.scheduling_cycle += 1
                    return entry.info
            self._wakeup.clear()
            await self._wakeup.wait()
        return None

    def add_unschedulable(self, info: QueuedPodInfo, pod_cycle: int) -> None:
        """Return a failed pod; if a move request arrived during its cycle it goes to backoff."""
        key = info.key
        if key in self._active or key in self._backoff or key in self._unschedulable:
            return
        info.timestamp = self.clock()
        if self._move_request_cycle >= pod_cycle:
            self._backoff[key] = info
        else:
            self._unschedulable[key] = info

    def add_backoff(self, info: QueuedPodInfo) -> None:
        """Return a pod after an error (not a fit failure): retry after its backoff."""
        info.timestamp = self.clock()
        if info.key not in self._active:
            self._backoff[info.key] = info

    def backoff_duration(self, info: QueuedPodInfo) -> float:
        return min(self.initial_backoff * 2.0 ** max(info.attempts - 1, 0), self.max_backoff)

    def flush(self) -> None:
        """Move pods whose backoff ended to activeQ, and long-unschedulable pods onward."""
        now = self.clock()
        for info in list(self._backoff.values()):
            if now >= info.timestamp + self.backoff_duration(info):
                del self._backoff[info.key]
                self._push(info)
        for info in list(self._unschedulable.values()):
            if now - info.timestamp > MAX_IN_UNSCHEDULABLE:
                del self._unschedulable[info.key]
                self._requeue(info)

    async def run_flush(self, period: float = FLUSH_PERIOD) -> None:
        while not self._closed:
            self.flush()
            await asyncio.sleep(period)

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    def pending(self) -> dict[str, int]:
        return {"active": len(self._active), "backoff": len(self._backoff),
                "unschedulable": len(self._unschedulable)}

    # --- internals -----------------------------------------------------------------------
    def _requeue(self, info: QueuedPodInfo) -> None:
        if self.clock() < info.timestamp + self.backoff_duration(info):
            self._backoff[info.key] = info
        else:
            self._push(info)

    def _push(self, info: QueuedPodInfo) -> None:
        self._active[info.key] = info
        heapq.heappush(self._heap, _Entry(info, self.less, next(self._seq)))
        self._wakeup.set()
