"""Graceful node shutdown: the periods by priority, the groups, and the manager's answer to
logind's PrepareForShutdown (fake logind; the real bus is in the integration tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lab.kube.kubelet import node_shutdown
from lab.kube.kubelet.logind import LogindError
from lab.kube.kubelet.node_shutdown import NodeShutdownManager, PriorityGrace, group_by_priority, plan
from lab.kube.kubelet.node_status import SHUTTING_DOWN, conditions
from tests.support import eventually


def pod(name: str, priority: int | None = None, grace: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app"}]}
    if priority is not None:
        spec["priority"] = priority
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": spec}


def test_plan_splits_the_grace_period_as_upstream_migrates_it() -> None:
    assert plan(30, 10) == [PriorityGrace(0, 20), PriorityGrace(2_000_000_000, 10)]
    assert plan(30, 0) == [PriorityGrace(0, 30), PriorityGrace(2_000_000_000, 0)]
    assert plan(0, 0) == []
    assert plan(10, 0, [PriorityGrace(100, 5), PriorityGrace(0, 7)]) == [PriorityGrace(0, 7), PriorityGrace(100, 5)]
    assert node_shutdown.requested(plan(30, 10)) == 30


def test_pods_go_to_the_group_of_the_highest_priority_not_above_theirs() -> None:
    periods = [PriorityGrace(10, 1), PriorityGrace(100, 2), PriorityGrace(1000, 3)]
    pods = [pod("low", 1), pod("none"), pod("ten", 10), pod("mid", 500), pod("top", 1000), pod("above", 10**9)]
    groups = group_by_priority(periods, pods)
    assert [[p["metadata"]["name"] for p in g.pods] for g in groups] == [
        ["low", "none", "ten"], ["mid"], ["top", "above"]]


def test_a_shutting_down_node_is_not_ready_with_upstreams_message() -> None:
    ready = {c["type"]: c for c in conditions(True, [], "now", shutting_down=True)}["Ready"]
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "KubeletNotReady", SHUTTING_DOWN)
    both = {c["type"]: c for c in conditions(False, [], "now", shutting_down=True)}["Ready"]
    assert both["message"].startswith("[container runtime network not ready") and both["message"].endswith(
        ", node is shutting down]")


class FakeLogind:
    def __init__(self, delay: float = 5.0, raise_to: float | None = None) -> None:
        self.delay, self.raise_to = delay, raise_to
        self.events: asyncio.Queue[bool | None] = asyncio.Queue()
        self.locks: list[int] = []
        self.released: list[int] = []
        self.overrides: list[float] = []
        self.connected = asyncio.Event()

    async def connect(self) -> None:
        self.connected.set()

    async def inhibit_delay(self) -> float:
        return self.delay

    async def override_inhibit_delay(self, seconds: float) -> None:
        self.overrides.append(seconds)
        self.delay = self.raise_to if self.raise_to is not None else seconds

    async def inhibit_shutdown(self) -> int:
        self.locks.append(100 + len(self.locks))
        return self.locks[-1]

    def release(self, lock: int) -> None:
        self.released.append(lock)

    async def shutdown_events(self) -> AsyncIterator[bool]:
        while (event := await self.events.get()) is not None:
            yield event
        raise LogindError("the system bus connection ended")

    async def close(self) -> None:
        pass

    def held(self) -> list[int]:
        return [lock for lock in self.locks if lock not in self.released]


class Harness:
    def __init__(self, periods: list[PriorityGrace], pods: list[dict[str, Any]], bus: FakeLogind,
                 stop_takes: dict[str, float] | None = None) -> None:
        self.bus, self.pods, self.stop_takes = bus, pods, stop_takes or {}
        self.stopped: list[tuple[str, int, float]] = []
        self.events: list[str] = []
        self.status_posts = 0
        self.manager = NodeShutdownManager(periods, lambda: bus, lambda: list(self.pods), self.terminate,
                                           self.events.append, self.post_status, reconnect=0.01)

    async def terminate(self, p: dict[str, Any], grace: int) -> None:
        await asyncio.sleep(self.stop_takes.get(p["metadata"]["name"], 0))
        self.stopped.append((p["metadata"]["name"], grace, asyncio.get_running_loop().time()))

    async def post_status(self) -> None:
        assert self.manager.shutting_down
        self.status_posts += 1


async def until(check: Any, timeout: float = 3.0) -> None:
    await eventually(check, timeout=timeout, interval=0.01)


async def test_shutdown_stops_pods_lowest_priority_first_then_lets_go_of_the_lock() -> None:
    bus = FakeLogind(delay=5)
    h = Harness(plan(30, 10), [pod("critical", 2_000_000_000), pod("app", grace=5), pod("slow", grace=60)], bus)
    task = asyncio.create_task(h.manager.run())
    try:
        await until(lambda: bus.held())
        assert bus.overrides == [30]  # logind's 5 s would cut the 30 s short
        assert not h.manager.shutting_down
        await bus.events.put(True)
        await until(lambda: len(h.stopped) == 3 and not bus.held())
        assert h.manager.shutting_down and h.status_posts == 1
        assert h.events == ["Shutdown manager detected shutdown event"]
        by_name = {name: (grace, at) for name, grace, at in h.stopped}
        assert by_name["app"][0] == 5 and by_name["slow"][0] == 20 and by_name["critical"][0] == 10
        assert by_name["critical"][1] >= max(by_name["app"][1], by_name["slow"][1])

        await bus.events.put(False)  # cancelled: the lock is taken again, the node ready again
        await until(lambda: len(bus.held()) == 1)
        assert not h.manager.shutting_down
        assert h.events[-1] == "Shutdown manager detected shutdown cancellation"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_group_that_overruns_its_period_does_not_hold_the_next_one() -> None:
    bus = FakeLogind(delay=100)
    h = Harness([PriorityGrace(0, 1), PriorityGrace(1000, 1)], [pod("stuck"), pod("next", 1000)], bus,
                stop_takes={"stuck": 30})
    task = asyncio.create_task(h.manager.run())
    try:
        await until(lambda: bus.held())
        assert bus.overrides == []  # logind already allows 100 s
        await bus.events.put(True)
        await until(lambda: [s[0] for s in h.stopped] == ["next"] and not bus.held(), timeout=4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_logind_that_keeps_too_short_a_delay_is_retried_and_holds_no_lock() -> None:
    bus = FakeLogind(delay=5, raise_to=5)
    h = Harness(plan(30, 0), [], bus)
    task = asyncio.create_task(h.manager.run())
    try:
        await until(lambda: len(bus.overrides) >= 2)  # reconnects, tries again
        assert bus.locks == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_lost_bus_is_reconnected_and_the_old_lock_released() -> None:
    bus = FakeLogind(delay=60)
    h = Harness(plan(30, 10), [], bus)
    task = asyncio.create_task(h.manager.run())
    try:
        await until(lambda: len(bus.locks) == 1)
        await bus.events.put(None)  # the connection ends
        await until(lambda: len(bus.locks) == 2)
        assert bus.held() == [bus.locks[1]]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(("grace", "critical", "by_priority", "error"), [
    ("-1s", "0s", None, "shutdownGracePeriod: invalid duration .-1s."),
    ("10s", "20s", None, "shutdownGracePeriodCriticalPods 20s must be <= shutdownGracePeriod 10s"),
    ("500ms", "0s", None, "shutdownGracePeriod 500ms must be either zero or otherwise >= 1 sec"),
    ("30s", "0s", [{"priority": 1, "shutdownGracePeriodSeconds": 5}],
     "Cannot specify both shutdownGracePeriodByPodPriority and shutdownGracePeriod at the same time"),
])
def test_shutdown_settings_are_checked_as_upstream(tmp_path, grace, critical, by_priority, error) -> None:
    from lab.kube.component.config import ConfigError
    from lab.kube.kubelet.settings import settings_from_args
    body = ("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
            f"shutdownGracePeriod: {grace}\nshutdownGracePeriodCriticalPods: {critical}\n")
    if by_priority:
        body += "shutdownGracePeriodByPodPriority:\n" + "".join(
            f"- priority: {e['priority']}\n  shutdownGracePeriodSeconds: {e['shutdownGracePeriodSeconds']}\n"
            for e in by_priority)
    (tmp_path / "c.yaml").write_text(body)
    with pytest.raises(ConfigError, match=error):
        settings_from_args(["--config", str(tmp_path / "c.yaml"), "--hostname-override", "w1", "--node-ip", "1.2.3.4"])


def test_shutdown_settings_from_the_config_file(tmp_path) -> None:
    from lab.kube.kubelet.settings import settings_from_args
    (tmp_path / "c.yaml").write_text(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "shutdownGracePeriodByPodPriority:\n- priority: 100\n  shutdownGracePeriodSeconds: 7\n")
    s = settings_from_args(["--config", str(tmp_path / "c.yaml"), "--hostname-override", "w1", "--node-ip", "1.2.3.4"])
    assert s.shutdown_grace_period_by_pod_priority == ((100, 7),)
