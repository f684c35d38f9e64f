"""The taint-eviction controller: untolerated pods go at once, tolerated ones after their
tolerationSeconds or never, and a taint taken off in time cancels the deletion."""

from __future__ import annotations

import asyncio
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers.taint_eviction import TaintEvictionController, min_toleration_seconds
from lab.kube.machinery import catalog
from tests.support import eventually
from tests.unit.kube.controllers.harness import running

TAINT = {"key": "dedicated", "value": "drill", "effect": "NoExecute"}


def pod(name: str, tolerations: list[dict[str, Any]] | None = None, node: str = "w1") -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "app", "image": "nginx:1.25"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def tolerating(seconds: int | None) -> list[dict[str, Any]]:
    toleration: dict[str, Any] = {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        toleration["tolerationSeconds"] = seconds
    return [toleration]


async def set_taints(api: InMemoryAPI, taints: list[dict[str, Any]]) -> None:
    node = await api.object(catalog.NODES, "w1")
    assert node is not None
    node.setdefault("spec", {})["taints"] = taints
    await api.update(catalog.NODES, node)


async def deleting(api: InMemoryAPI, name: str) -> dict[str, Any] | None:
    """The pod once it is marked for deletion (or gone), else None."""
    got = await api.object(catalog.PODS, name, "default")
    if got is None:
        return {"gone": True}
    return got if got["metadata"].get("deletionTimestamp") else None


async def event_messages(api: InMemoryAPI) -> list[str]:
    return sorted(e.get("message", "") for e in await api.objects(catalog.EVENTS, "default")
                  if e.get("reason") == "TaintManagerEviction")


def test_the_shortest_toleration_wins_and_none_means_forever() -> None:
    assert min_toleration_seconds([]) == 0.0
    assert min_toleration_seconds([{"tolerationSeconds": 30}, {"tolerationSeconds": 5}, {}]) == 5.0
    assert min_toleration_seconds([{"tolerationSeconds": -3}]) == 0.0
    assert min_toleration_seconds([{}, {"key": "x"}]) is None


async def test_untolerated_pods_go_at_once_tolerated_ones_after_their_seconds_or_never() -> None:
    async def seed(api: InMemoryAPI) -> None:
        await api.seed(catalog.NODES, {"metadata": {"name": "w1"}})
        await api.seed(catalog.NODES, {"metadata": {"name": "w2"}})
        await api.seed(catalog.PODS, pod("plain"))
        await api.seed(catalog.PODS, pod("brief", tolerating(1)))
        await api.seed(catalog.PODS, pod("forever", tolerating(None)))
        await api.seed(catalog.PODS, pod("elsewhere", node="w2"))

    async with running(TaintEvictionController, seed=seed) as (api, _):
        await set_taints(api, [TAINT])
        plain = await eventually(lambda: deleting(api, "plain"), 5, "the untolerating pod deleted")
        target = [c for c in plain.get("status", {}).get("conditions") or [] if c["type"] == "DisruptionTarget"]
        assert target and target[0]["reason"] == "DeletionByTaintManager" and target[0]["status"] == "True"
        assert await deleting(api, "brief") is None  # tolerated for 1 s yet
        await eventually(lambda: deleting(api, "brief"), 5, "the 1 s toleration run out")
        assert await deleting(api, "forever") is None
        assert await deleting(api, "elsewhere") is None  # another node's pod
        messages = await eventually(lambda: _at_least(event_messages(api), 2), 5, "the events")
        assert messages == ["Marking for deletion Pod default/brief", "Marking for deletion Pod default/plain"]


async def test_a_taint_taken_off_in_time_cancels_the_deletion() -> None:
    async def seed(api: InMemoryAPI) -> None:
        await api.seed(catalog.NODES, {"metadata": {"name": "w1"}})
        await api.seed(catalog.PODS, pod("patient", tolerating(2)))

    async with running(TaintEvictionController, seed=seed) as (api, [controller]):
        await set_taints(api, [TAINT])
        await eventually(lambda: _true("default/patient" in controller.scheduled), 5, "the deletion scheduled")
        await set_taints(api, [])
        await eventually(lambda: _true("default/patient" not in controller.scheduled), 5, "the deletion cancelled")
        messages = await eventually(lambda: _at_least(event_messages(api), 1), 5, "the cancelling event")
        assert messages == ["Cancelling deletion of Pod default/patient"]
        await asyncio.sleep(2.5)  # past the 2 s the toleration allowed: the stale timer finds nothing
        assert await deleting(api, "patient") is None


async def _at_least(messages: Any, count: int) -> list[str] | None:
    got: list[str] = await messages
    return got if len(got) >= count else None


async def _true(value: bool) -> bool:
    return value
