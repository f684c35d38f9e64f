"""The scheduler against the API server in memory: pending pods get bound, unfit pods get told why."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client, Informer
from lab.kube.machinery import catalog
from lab.kube.scheduler import config
from lab.kube.scheduler.scheduler import Scheduler
from tests.support import eventually, holds_for
from tests.unit.kube.scheduler.builders import node, pod


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[InMemoryAPI, Scheduler]]:
    async with InMemoryAPI() as api, Client(api.config) as client:
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


async def _pod(api: InMemoryAPI, name: str) -> dict:
    return await api.object(catalog.PODS, name, "default") or {}


async def _node_of(api: InMemoryAPI, name: str) -> str:
    return str((await _pod(api, name)).get("spec", {}).get("nodeName") or "")


async def test_pods_are_spread_over_nodes_and_bound(cluster: tuple[InMemoryAPI, Scheduler]) -> None:
    api, _ = cluster
    await api.seed(catalog.NODES, node("w1", cpu="2"))
    await api.seed(catalog.NODES, node("w2", cpu="2"))
    for i in range(4):
        await api.seed(catalog.PODS, pod(f"web-{i}", cpu="900m"))

    async def placed() -> list[str] | None:
        nodes = [await _node_of(api, f"web-{i}") for i in range(4)]
        return nodes if all(nodes) else None

    assert sorted(await eventually(placed)) == ["w1", "w1", "w2", "w2"]  # 2 CPUs each: assumed pods count at once
    first = await _node_of(api, "web-0")
    events = [e for e in await api.objects(catalog.EVENTS, "default") if e["reason"] == "Scheduled"]
    assert any(e["message"] == "Successfully assigned default/web-0 to " + first for e in events)
    assert events[0]["source"]["component"] == "default-scheduler"


async def test_unfit_pod_gets_condition_and_event_then_fits_when_a_node_arrives(
        cluster: tuple[InMemoryAPI, Scheduler]) -> None:
    api, _ = cluster
    await api.seed(catalog.NODES, node("small", cpu="1"))
    await api.seed(catalog.PODS, pod("big", cpu="2"))

    async def condition() -> dict | None:
        conds = ((await _pod(api, "big")).get("status") or {}).get("conditions") or []
        return next((c for c in conds if c["type"] == "PodScheduled"), None)

    async def failed_scheduling() -> list[dict]:
        return [e for e in await api.objects(catalog.EVENTS, "default") if e["reason"] == "FailedScheduling"]

    async def on_large() -> bool:
        return await _node_of(api, "big") == "large"

    cond = await eventually(condition)
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert cond["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    failed = await eventually(failed_scheduling)
    assert failed[0]["type"] == "Warning" and failed[0]["involvedObject"]["name"] == "big"

    await api.seed(catalog.NODES, node("large", cpu="8"))  # NodeAdd moves the pod back to the queue
    await eventually(on_large)


async def test_pods_for_other_schedulers_are_left_alone(cluster: tuple[InMemoryAPI, Scheduler]) -> None:
    api, _ = cluster
    await api.seed(catalog.NODES, node("w1"))
    await api.seed(catalog.PODS, pod("theirs", schedulerName="custom-scheduler"))
    await api.seed(catalog.PODS, pod("mine"))
    await eventually(lambda: _node_of(api, "mine"))  # queued after "theirs": the scheduler has seen both

    async def unbound() -> bool:
        return await _node_of(api, "theirs") == ""
    await holds_for(unbound, 0.3, '"theirs" left unbound')
