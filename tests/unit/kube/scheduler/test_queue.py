"""SchedulingQueue: priority order, backoff after failures, unschedulable pods revived by events."""

import asyncio

from lab.kube.scheduler.plugins.priority_sort import PrioritySort
from lab.kube.scheduler.queue import SchedulingQueue
from tests.unit.kube.scheduler.builders import pod


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _queue(clock: Clock) -> SchedulingQueue:
    return SchedulingQueue(PrioritySort().less, clock=clock)


async def test_higher_priority_first_then_oldest() -> None:
    clock = Clock()
    q = _queue(clock)
    q.add(pod("old-low"))
    clock.t += 1
    q.add(pod("high", priority=1000))
    clock.t += 1
    q.add(pod("new-low"))
    order = [(await q.pop()).key for _ in range(3)]  # type: ignore[union-attr]
    assert order == ["default/high", "default/old-low", "default/new-low"]


async def test_unschedulable_pod_waits_for_an_event_then_its_backoff() -> None:
    clock = Clock()
    q = _queue(clock)
    q.add(pod("p"))
    info = await q.pop()
    assert info is not None
    q.add_unschedulable(info, q.scheduling_cycle)
    q.flush()
    assert q.pending() == {"active": 0, "backoff": 0, "unschedulable": 1}
    q.move_all_to_active_or_backoff("NodeAdd")
    assert q.pending()["backoff"] == 1  # first attempt failed: 1 s backoff
    clock.t += 1.01
    q.flush()
    assert q.pending()["active"] == 1
    assert (await q.pop()).attempts == 2  # type: ignore[union-attr]


async def test_a_move_request_during_the_cycle_sends_the_pod_to_backoff() -> None:
    clock = Clock()
    q = _queue(clock)
    q.add(pod("p"))
    info = await q.pop()
    cycle = q.scheduling_cycle
    q.move_all_to_active_or_backoff("NodeAdd")  # a node arrived while we were filtering
    q.add_unschedulable(info, cycle)  # type: ignore[arg-type]
    assert q.pending()["backoff"] == 1


async def test_backoff_doubles_up_to_ten_seconds() -> None:
    q = _queue(Clock())
    q.add(pod("p"))
    info = await q.pop()
    assert info is not None
    durations = []
    for attempts in range(1, 7):
        info.attempts = attempts
        durations.append(q.backoff_duration(info))
    assert durations == [1, 2, 4, 8, 10, 10]


async def test_deleted_pod_is_never_popped_and_close_releases_waiters() -> None:
    q = _queue(Clock())
    q.add(pod("gone"))
    q.delete(pod("gone"))
    waiter = asyncio.create_task(q.pop())
    await asyncio.sleep(0)
    q.close()
    assert await asyncio.wait_for(waiter, 1) is None


async def test_status_only_updates_leave_an_unschedulable_pod_waiting() -> None:
    q = _queue(Clock())
    q.add(pod("p", cpu="8"))
    info = await q.pop()
    q.add_unschedulable(info, q.scheduling_cycle)  # type: ignore[arg-type]
    with_condition = pod("p", cpu="8")
    with_condition["status"] = {"conditions": [{"type": "PodScheduled", "status": "False"}]}
    q.update(with_condition)
    assert q.pending()["unschedulable"] == 1
    q.update(pod("p", cpu="1"))  # the user lowered the request: worth another try
    assert q.pending()["unschedulable"] == 0
