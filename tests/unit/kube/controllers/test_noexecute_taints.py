"""The NoExecute tainting: which taint for which Ready status, one node per token, and the zone
states that slow or stop it."""

from __future__ import annotations

import asyncio
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.controllers.noexecute_taints import (
    EvictionRates,
    NoExecuteTainter,
    ZoneQueue,
    ZoneState,
    swapped_taints,
    zone_key,
    zone_state,
)
from lab.kube.machinery import catalog
from lab.kube.machinery.taints import NOT_READY, UNREACHABLE


def node(name: str, ready: str, taints: list[dict[str, Any]] | None = None, zone: str = "") -> dict[str, Any]:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


def no_execute_keys(obj: dict[str, Any]) -> list[str]:
    return sorted(t["key"] for t in obj["spec"].get("taints") or [] if t["effect"] == "NoExecute")


def test_zone_states_as_upstreams_compute_zone_state() -> None:
    assert zone_state(["True", "True", "Unknown"], 0.55) is ZoneState.NORMAL
    assert zone_state(["Unknown", "False"], 0.55) is ZoneState.FULL_DISRUPTION
    assert zone_state(["True", "Unknown", "Unknown"], 0.55) is ZoneState.NORMAL  # two unready never partial
    assert zone_state(["True", "True", "Unknown", "Unknown", "False"], 0.55) is ZoneState.PARTIAL_DISRUPTION
    assert zone_state(["True", "True", "Unknown", "Unknown", ""], 0.7) is ZoneState.NORMAL
    assert zone_key(node("a", "True", zone="z1")) == ":\x00:z1" and zone_key(node("b", "True")) == ""


def test_partial_disruption_slows_only_large_zones() -> None:
    rates = EvictionRates()
    assert rates.for_state(ZoneState.NORMAL, 3) == 0.1
    assert rates.for_state(ZoneState.PARTIAL_DISRUPTION, 10) == 0.0
    assert rates.for_state(ZoneState.PARTIAL_DISRUPTION, 51) == 0.01


def test_the_queue_gives_one_node_per_token_and_remembers_tainted_ones() -> None:
    now = [0.0]
    queue = ZoneQueue(0.1, lambda: now[0])
    assert queue.add("a") and queue.add("b") and not queue.add("a")
    assert queue.due() == "a"
    queue.done("a", True)
    assert queue.due() is None  # the bucket is empty: the next node 10 s later
    now[0] = 9.9
    assert queue.due() is None
    now[0] = 10.0
    assert queue.due() == "b"
    queue.done("b", False, retry_after=5)  # failed: tried again, later
    assert not queue.add("a")  # tainted already: not again until reachable
    queue.remove("a")
    assert queue.add("a")
    queue.swap_limiter(0.0)
    now[0] = 100.0
    assert queue.due() is None  # a zero rate stops tainting


def test_swapped_taints_keep_the_others() -> None:
    taints = [{"key": "x", "effect": "NoExecute"}, {"key": UNREACHABLE, "effect": "NoSchedule"},
              {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "t0"}]
    out = swapped_taints({"spec": {"taints": taints}}, NOT_READY, (UNREACHABLE,), "t1") or []
    assert out == [taints[0], taints[1], {"key": NOT_READY, "effect": "NoExecute", "timeAdded": "t1"}]
    assert swapped_taints({"spec": {"taints": out}}, NOT_READY, (UNREACHABLE,), "t2") is None
    assert swapped_taints({"spec": {"taints": out}}, None, (NOT_READY, UNREACHABLE), "t2") == taints[:2]


async def test_unready_nodes_are_tainted_at_the_eviction_rate_and_untainted_when_ready() -> None:
    now = [0.0]
    async with InMemoryAPI() as api, Client(api.config) as client:
        for name in ("a", "b", "c", "d"):
            await api.seed(catalog.NODES, node(name, "True"))
        tainter = NoExecuteTainter(client, EvictionRates(), clock=lambda: now[0])

        async def look(statuses: dict[str, str]) -> dict[str, list[str]]:
            nodes = {n: await api.object(catalog.NODES, n) for n in statuses}
            for name, status in statuses.items():
                nodes[name]["status"]["conditions"][0]["status"] = status
                await tainter.observe(nodes[name], status)
            await tainter.handle_disruption({"": list(statuses.values())}, list(nodes.values()))
            cached = {n: await api.object(catalog.NODES, n) for n in statuses}
            for name, status in statuses.items():
                cached[name]["status"]["conditions"][0]["status"] = status
            await tainter.tainting_pass(cached.get)
            return {n: no_execute_keys(await api.object(catalog.NODES, n)) for n in statuses}

        assert await look({"a": "Unknown", "b": "False", "c": "True", "d": "True"}) == {
            "a": [UNREACHABLE], "b": [], "c": [], "d": []}  # one token: one node
        now[0] = 10.0
        assert (await look({"a": "Unknown", "b": "False", "c": "True", "d": "True"}))["b"] == [NOT_READY]
        # unreachable -> not-ready is swapped at once, without a token
        now[0] = 11.0
        assert (await look({"a": "False", "b": "False", "c": "True", "d": "True"}))["a"] == [NOT_READY]
        assert await look({"a": "True", "b": "True", "c": "True", "d": "True"}) == {n: [] for n in "abcd"}


async def test_every_node_down_is_master_disruption_no_taints_until_one_is_back() -> None:
    now = [0.0]
    async with InMemoryAPI() as api, Client(api.config) as client:
        taint = [{"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]
        await api.seed(catalog.NODES, node("a", "Unknown", taint))
        await api.seed(catalog.NODES, node("b", "True"))
        tainter = NoExecuteTainter(client, EvictionRates(), clock=lambda: now[0])
        a, b = await api.object(catalog.NODES, "a"), await api.object(catalog.NODES, "b")
        assert not await tainter.handle_disruption({"": ["Unknown", "True"]}, [a, b])
        b["status"]["conditions"][0]["status"] = "Unknown"
        assert not await tainter.handle_disruption({"": ["Unknown", "Unknown"]}, [a, b])
        assert no_execute_keys(await api.object(catalog.NODES, "a")) == []  # taken off
        await tainter.observe(b, "Unknown")
        now[0] = 60.0
        await tainter.tainting_pass({"b": b}.get)
        assert no_execute_keys(await api.object(catalog.NODES, "b")) == []  # stopped
        assert await tainter.handle_disruption({"": ["True", "Unknown"]}, [a, b])  # out: graces restart
        await tainter.tainting_pass({"b": b}.get)
        assert no_execute_keys(await api.object(catalog.NODES, "b")) == [UNREACHABLE]
        await asyncio.sleep(0)
