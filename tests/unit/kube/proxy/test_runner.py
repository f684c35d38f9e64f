"""The bounded-frequency runner: bursts fold into one run, and runs come at least periodically."""

from __future__ import annotations

import asyncio

from lab.kube.proxy.runner import BoundedFrequencyRunner


async def _counting(min_interval: float, max_interval: float) -> tuple[BoundedFrequencyRunner, list[float]]:
    times: list[float] = []

    async def fn() -> None:
        times.append(asyncio.get_running_loop().time())

    return BoundedFrequencyRunner("test", fn, min_interval, max_interval), times


async def test_a_burst_of_requests_runs_once_after_min_interval() -> None:
    runner, times = await _counting(0.2, 60)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.05)  # the first run happens at once
    for _ in range(50):
        runner.run_soon()
    await asyncio.sleep(0.4)
    task.cancel()
    assert len(times) == 2 and times[1] - times[0] >= 0.19


async def test_runs_happen_every_max_interval_without_requests() -> None:
    runner, times = await _counting(0.01, 0.1)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.35)
    task.cancel()
    assert 3 <= len(times) <= 5


async def test_a_failing_run_is_retried() -> None:
    attempts = 0

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("iptables-restore failed")

    runner = BoundedFrequencyRunner("test", flaky, 0.05, 60)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.2)
    task.cancel()
    assert attempts == 2


async def test_retry_after_asks_for_a_later_run() -> None:
    runner, times = await _counting(0.01, 60)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.02)
    runner.retry_after(0.1)
    await asyncio.sleep(0.2)
    task.cancel()
    assert len(times) == 2
