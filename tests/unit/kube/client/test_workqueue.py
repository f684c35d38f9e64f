"""The work queue keeps client-go's promises: dedupe, one worker per key, backoff, clean shutdown."""

import asyncio

import pytest

from lab.kube.client import WorkQueue, run_controller
from lab.kube.client.ratelimit import BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter
from tests.support import eventually, holds_for


async def test_a_burst_of_adds_collapses_into_one_item():
    q = WorkQueue("test")
    for _ in range(5):
        q.add("default/web")
    q.add("default/db")
    assert len(q) == 2
    assert await q.get() == "default/web"
    assert await q.get() == "default/db"


async def test_a_key_added_while_processing_waits_until_done():
    q = WorkQueue("test")
    q.add("k")
    key = await q.get()
    q.add("k")  # an event arrives while a worker holds the key
    assert len(q) == 0, "no second worker may get the key while it is processed"
    q.done(key)
    assert len(q) == 1
    assert await q.get() == "k"


async def test_get_waits_for_an_add():
    q = WorkQueue("test")
    getter = asyncio.create_task(q.get())
    await holds_for(lambda: not getter.done(), 0.05, "get() waiting on an empty queue")
    q.add("k")
    assert await asyncio.wait_for(getter, 1) == "k"


async def test_shutdown_wakes_getters_and_ignores_new_keys():
    q = WorkQueue("test")
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    assert await asyncio.wait_for(getter, 1) is None
    q.add("late")
    assert len(q) == 0 and await q.get() is None


async def test_add_after_fires_later_and_the_earliest_delay_wins():
    q = WorkQueue("test")
    q.add_after("k", 0.2)
    q.add_after("k", 0.02)
    assert len(q) == 0
    assert await asyncio.wait_for(q.get(), 0.15) == "k"


async def test_shutdown_cancels_pending_delays():
    q = WorkQueue("test")
    q.add_after("k", 0.02)
    q.shutdown()
    await holds_for(lambda: len(q) == 0, 0.1, "no delayed key after shutdown")  # well past the 0.02 s delay


def test_per_key_backoff_doubles_from_5ms_and_is_capped():
    limiter = ItemExponentialFailureRateLimiter(0.005, 1000.0)
    delays = [limiter.when("k") for _ in range(5)]
    assert delays == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert limiter.num_requeues("k") == 5
    for _ in range(100):
        last = limiter.when("k")
    assert last == 1000.0
    limiter.forget("k")
    assert limiter.when("k") == 0.005 and limiter.when("other") == 0.005


def test_token_bucket_allows_a_burst_then_paces_at_qps():
    now = [0.0]
    bucket = BucketRateLimiter(qps=10, burst=100, clock=lambda: now[0])
    assert all(bucket.when(i) == 0 for i in range(100))
    assert bucket.when("101st") == pytest.approx(0.1)
    assert bucket.when("102nd") == pytest.approx(0.2)
    now[0] = 10.0  # refilled
    assert bucket.when("later") == 0


def test_default_limiter_takes_the_larger_delay():
    now = [0.0]
    limiter = MaxOfRateLimiter(ItemExponentialFailureRateLimiter(), BucketRateLimiter(10, 1, clock=lambda: now[0]))
    assert limiter.when("a") == 0.005
    assert limiter.when("b") == pytest.approx(0.1)  # the bucket is empty: it dominates


async def test_rate_limited_requeue_grows_and_forget_resets():
    q = WorkQueue("test")
    for _ in range(3):
        q.add_rate_limited("k")
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0
    q.shutdown()


async def test_run_controller_retries_failures_with_backoff_and_forgets_on_success():
    q = WorkQueue("test")
    calls: list[str] = []

    async def sync(key: str) -> None:
        calls.append(key)
        if len(calls) < 3:
            raise RuntimeError("transient")
        q.shutdown()

    q.add("default/web")
    await asyncio.wait_for(run_controller(q, sync, workers=2), 2)
    assert calls == ["default/web"] * 3
    assert q.num_requeues("default/web") == 0


async def test_no_key_is_synced_by_two_workers_at_once():
    q = WorkQueue("test")
    running: set[str] = set()
    overlaps = []
    runs = []

    async def sync(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        await asyncio.sleep(0.01)
        running.discard(key)
        runs.append(key)

    task = asyncio.create_task(run_controller(q, sync, workers=4))
    for _ in range(10):
        q.add("a")
        q.add("b")
        await asyncio.sleep(0.003)
    await eventually(lambda: len(q) == 0 and not running and {"a", "b"} <= set(runs), 2, "the queue drained")
    q.shutdown()
    await asyncio.wait_for(task, 1)
    assert overlaps == []
    assert 2 <= len(runs) < 20  # bursts collapsed, yet both keys were synced


async def test_run_controller_logs_the_failing_key(caplog):
    q = WorkQueue("pods")

    async def sync(key: str) -> None:
        q.shutdown()
        raise ValueError("bad spec")

    q.add("default/web")
    await asyncio.wait_for(run_controller(q, sync), 1)
    assert "error syncing 'default/web'" in caplog.text and "bad spec" in caplog.text
