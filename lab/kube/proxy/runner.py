"""A bounded-frequency runner: run a sync at most every `min_interval`, at least every `max_interval`.

The asyncio shape of upstream's async.BoundedFrequencyRunner: any number of `run_soon()`
requests between two runs collapse into one run, and a failed run asks for a retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class BoundedFrequencyRunner:
    """Owns one loop task via `run()`; `run_soon()` and `retry_after()` are safe from handlers."""

    def __init__(self, name: str, fn: Callable[[], Awaitable[None]], min_interval: float,
                 max_interval: float) -> None:
        self.name = name
        self.fn = fn
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.runs = 0
        self._requested = True  # the first run happens at once
        self._poke = asyncio.Event()  # wakes the loop to look at its deadlines again
        self._retry_at: float | None = None

    def run_soon(self) -> None:
        """Ask for a run as soon as `min_interval` allows."""
        self._requested = True
        self._poke.set()

    def retry_after(self, seconds: float) -> None:
        """Ask for a run in `seconds` (earlier if something else asks first)."""
        at = asyncio.get_running_loop().time() + seconds
        if self._retry_at is None or at < self._retry_at:
            self._retry_at = at
            self._poke.set()

    async def run(self) -> None:
        """Loop until cancelled; the first run happens at once."""
        loop = asyncio.get_running_loop()
        last = float("-inf")
        while True:
            deadline = last + self.max_interval
            if self._retry_at is not None:
                deadline = min(deadline, self._retry_at)
            if not self._requested and loop.time() < deadline:
                self._poke.clear()
                try:
                    async with asyncio.timeout(deadline - loop.time()):  # wait_for can swallow a cancel
                        await self._poke.wait()
                except TimeoutError:
                    pass  # the periodic (or retry) run is due
                continue  # look at the deadlines again
            wait = last + self.min_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # requests arriving meanwhile fold into this run
            self._requested = False
            self._retry_at = None
            last = loop.time()
            self.runs += 1
            try:
                await self.fn()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must outlive one bad run; the next request retries
                log.exception("%s: run failed", self.name)
                self.retry_after(self.min_interval)
