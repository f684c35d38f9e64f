"""The bounded-frequency runner: bursts fold into one run, and runs come at least periodically."""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lab.kube.proxy.runner import BoundedFrequencyRunner
from tests.support import eventually, holds_for


async def _counting(min_interval: float, max_interval: float) -> tuple[BoundedFrequencyRunner, list[float]]:
    times: list[float] = []

    async def fn() -> None:
        times.append(asyncio.get_running_loop().time())

    return BoundedFrequencyRunner("test", fn, min_interval, max_interval), times


@asynccontextmanager
async def running(runner: BoundedFrequencyRunner) -> AsyncIterator[None]:
    task = asyncio.create_task(runner.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_burst_of_requests_runs_once_after_min_interval() -> None:
    runner, times = await _counting(0.2, 60)
    async with running(runner):
        await eventually(lambda: len(times) == 1, 2, "the first run, at once")
        for _ in range(50):
            runner.run_soon()
        await eventually(lambda: len(times) >= 2, 2, "the run the burst asked for")
        # two more min_intervals: a burst that had not folded into one run would show here
        await holds_for(lambda: len(times) == 2, 0.4, "one run for the whole burst")
    assert times[1] - times[0] >= 0.19


async def test_runs_happen_every_max_interval_without_requests() -> None:
    runner, times = await _counting(0.01, 0.2)
    async with running(runner):
        await eventually(lambda: len(times) >= 4, 5, "three periodic runs after the first")
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # no sooner than max_interval (nothing asked for a run; the margin below 0.2 is the time
    # between the runner's clock reading and the append), and typically well short of twice it
    # (a doubled interval shows in the median; one gap stretched by a loaded machine does not fail)
    assert all(gap >= 0.19 for gap in gaps), gaps
    assert statistics.median(gaps) < 0.35, gaps


async def test_a_failing_run_is_retried() -> None:
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("iptables-restore failed")

    runner = BoundedFrequencyRunner("test", flaky, 0.05, 60)
    async with running(runner):
        await eventually(lambda: attempts >= 2, 2, "the retry of the failed run")
        # a successful retry asks for nothing more: no third attempt within a few min_intervals
        await holds_for(lambda: attempts == 2, 0.2, "no further attempts")


async def test_retry_after_asks_for_a_later_run() -> None:
    runner, times = await _counting(0.01, 60)
    async with running(runner):
        await eventually(lambda: len(times) == 1, 2, "the first run, at once")
        asked = asyncio.get_running_loop().time()
        runner.retry_after(0.1)
        await eventually(lambda: len(times) >= 2, 2, "the run retry_after asked for")
        await holds_for(lambda: len(times) == 2, 0.2, "only the one run it asked for")
    assert times[1] >= asked + 0.1  # not before the delay it asked for
