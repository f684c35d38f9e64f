"""The scheduler against FakeAPI: pending pods get bound, unfit pods get told why."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from lab.kube.client import Client, Informer
from lab.kube.client.fake import FakeAPI
from lab.kube.machinery import catalog
from lab.kube.scheduler import config
from lab.kube.scheduler.scheduler import Scheduler
from tests.unit.kube.scheduler.builders import node, pod


async def _eventually(check, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[FakeAPI, Scheduler]]:
    async with FakeAPI() as api, Client(api.config) as client:
        pods, nodes = Informer(client, catalog.PODS), Informer(client, catalog.NODES)
        scheduler = Scheduler(client, config.from_dict(None))
        scheduler.queue.initial_backoff = 0.05  # keep retries quick in tests
        scheduler.attach(pods, nodes)
        tasks = [asyncio.create_task(t) for t in (pods.run(), nodes.run())]
        await pods.wait_synced(5)
        await nodes.wait_synced(5)
        tasks.append(asyncio.create_task(scheduler.run()))
        try:
            yield api, scheduler
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _pod(api: FakeAPI, name: str) -> dict:
    return api.object(catalog.PODS, name, "default") or {}


async def test_pods_are_spread_over_nodes_and_bound(cluster: tuple[FakeAPI, Scheduler]) -> None:
    api, _ = cluster
    api.seed(catalog.NODES, node("w1", cpu="2"))
    api.seed(catalog.NODES, node("w2", cpu="2"))
    for i in range(4):
        api.seed(catalog.PODS, pod(f"web-{i}", cpu="900m"))
    await _eventually(lambda: all(_pod(api, f"web-{i}").get("spec", {}).get("nodeName") for i in range(4)))
    placed = [_pod(api, f"web-{i}")["spec"]["nodeName"] for i in range(4)]
    assert sorted(placed) == ["w1", "w1", "w2", "w2"]  # 2 CPUs each: the assumed pods counted at once
    events = [e for e in api.objects(catalog.EVENTS, "default") if e["reason"] == "Scheduled"]
    assert any(e["message"] == "Successfully assigned default/web-0 to " + placed[0] for e in events)
    assert events[0]["source"]["component"] == "default-scheduler"


async def test_unfit_pod_gets_condition_and_event_then_fits_when_a_node_arrives(
        cluster: tuple[FakeAPI, Scheduler]) -> None:
    api, _ = cluster
    api.seed(catalog.NODES, node("small", cpu="1"))
    api.seed(catalog.PODS, pod("big", cpu="2"))

    def condition() -> dict | None:
        conds = (_pod(api, "big").get("status") or {}).get("conditions") or []
        return next((c for c in conds if c["type"] == "PodScheduled"), None)

    cond = await _eventually(condition)
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert cond["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    failed = await _eventually(lambda: [e for e in api.objects(catalog.EVENTS, "default")
                                        if e["reason"] == "FailedScheduling"])
    assert failed[0]["type"] == "Warning" and failed[0]["involvedObject"]["name"] == "big"

    api.seed(catalog.NODES, node("large", cpu="8"))  # NodeAdd moves the pod back to the queue
    await _eventually(lambda: _pod(api, "big").get("spec", {}).get("nodeName") == "large")


async def test_pods_for_other_schedulers_are_left_alone(cluster: tuple[FakeAPI, Scheduler]) -> None:
    api, _ = cluster
    api.seed(catalog.NODES, node("w1"))
    api.seed(catalog.PODS, pod("mine"))
    api.seed(catalog.PODS, pod("theirs", schedulerName="custom-scheduler"))
    await _eventually(lambda: _pod(api, "mine").get("spec", {}).get("nodeName"))
    await asyncio.sleep(0.2)
    assert not _pod(api, "theirs")["spec"].get("nodeName")
