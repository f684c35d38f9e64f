"""The controller work queue, with client-go `workqueue` semantics.

A dirty set and a processing set: a key is handed to one worker at a time, re-adds while
it is processed are remembered and queued once `done`, and bursts collapse into one run.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable
from typing import Protocol

from lab.kube.client.ratelimit import RateLimiter, default_controller_rate_limiter


class QueueMetrics(Protocol):
    """What a named queue reports (upstream `workqueue.MetricsProvider`): set once per process
    with `set_metrics`, before the queues are made."""

    def added(self, queue: str) -> None: ...
    def depth(self, queue: str, depth: int) -> None: ...
    def waited(self, queue: str, seconds: float) -> None: ...
    def worked(self, queue: str, seconds: float) -> None: ...
    def retried(self, queue: str) -> None: ...


_metrics: QueueMetrics | None = None


def set_metrics(metrics: QueueMetrics | None) -> None:
    global _metrics
    _metrics = metrics


class WorkQueue:
    """Rate-limited, delaying FIFO of keys (usually `namespace/name` strings)."""

    def __init__(self, name: str = "", rate_limiter: RateLimiter | None = None) -> None:
        self.name = name
        self.rate_limiter = rate_limiter or default_controller_rate_limiter()
        self._queue: deque[Hashable] = deque()
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._timers: dict[Hashable, tuple[float, asyncio.TimerHandle]] = {}
        self._shutting_down = False
        self._metrics = _metrics if name else None  # unnamed queues report nothing, as upstream's
        self._added_at: dict[Hashable, float] = {}
        self._started_at: dict[Hashable, float] = {}

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: Hashable) -> None:
        """Queue `key` unless it is already waiting; keys being processed are queued on `done`."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if self._metrics is not None:
            self._metrics.added(self.name)
            self._added_at.setdefault(key, time.monotonic())
        if key in self._processing:
            return
        self._queue.append(key)
        self._report_depth()
        self._wake_one()

    def add_after(self, key: Hashable, delay: float) -> None:
        """Add `key` after `delay` seconds; of several pending delays for one key the earliest wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        ready_at = loop.time() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= ready_at:
                return
            pending[1].cancel()
        handle = loop.call_at(ready_at, self._fire, key)
        self._timers[key] = (ready_at, handle)

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Hashable) -> None:
        if self._metrics is not None:
            self._metrics.retried(self.name)
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: Hashable) -> None:
        """Stop tracking `key`'s failures (call after a successful sync)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: Hashable) -> int:
        return self.rate_limiter.num_requeues(key)

    async def get(self) -> Hashable | None:
        """The next key, marked as processing; None once shut down and drained."""
        while not self._queue and not self._shutting_down:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                # a wake-up meant for us must not be lost with us
                if fut.done() and not fut.cancelled():
                    self._wake_one()
                raise
        if not self._queue:
            return None
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        if self._metrics is not None:
            now = time.monotonic()
            self._metrics.waited(self.name, now - self._added_at.pop(key, now))
            self._started_at[key] = now
            self._report_depth()
        return key

    def done(self, key: Hashable) -> None:
        """Mark `key` processed; if it was added meanwhile it goes back on the queue."""
        self._processing.discard(key)
        if self._metrics is not None and (started := self._started_at.pop(key, None)) is not None:
            self._metrics.worked(self.name, time.monotonic() - started)
        if key in self._dirty:
            self._queue.append(key)
            self._report_depth()
            self._wake_one()

    def _report_depth(self) -> None:
        if self._metrics is not None:
            self._metrics.depth(self.name, len(self._queue))

    def shutdown(self) -> None:
        """Stop accepting keys, cancel pending delays, wake every waiting `get`."""
        self._shutting_down = True
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    def _wake_one(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
