"""The in-memory storage keeps etcd's promises: CAS on revisions, typed errors, watch from
a revision with previous objects, and Compacted for history it no longer has."""

from __future__ import annotations

import asyncio

import pytest

from lab.kube.apiserver.storage import Compacted, Conflict, KeyExists, KeyNotFound
from lab.kube.apiserver.storage.memory import MemoryStorage
from tests.support import eventually, holds_for


async def test_create_is_compare_and_swap_on_absence() -> None:
    store = MemoryStorage()
    first = await store.create("/r/a", {"metadata": {"name": "a"}})
    assert first["metadata"]["resourceVersion"] == str(await store.revision())
    with pytest.raises(KeyExists):
        await store.create("/r/a", {"metadata": {"name": "a"}})


async def test_update_needs_the_current_revision() -> None:
    store = MemoryStorage()
    obj = await store.create("/r/a", {"metadata": {"name": "a"}, "v": 1})
    rev = int(obj["metadata"]["resourceVersion"])
    await store.update("/r/a", {**obj, "v": 2}, rev)
    with pytest.raises(Conflict):
        await store.update("/r/a", {**obj, "v": 3}, rev)
    with pytest.raises(KeyNotFound):
        await store.update("/r/b", obj, rev)


async def test_guaranteed_update_retries_and_skips_noops() -> None:
    store = MemoryStorage()
    await store.create("/r/a", {"metadata": {}, "n": 0})
    calls = 0

    async def bump(obj: dict) -> dict:
        nonlocal calls
        calls += 1
        if calls == 1:  # someone else writes between our read and our write
            current = await store.get("/r/a")
            await store.update("/r/a", {**current, "n": 10}, int(current["metadata"]["resourceVersion"]))
        obj["n"] += 1
        return obj

    result = await store.guaranteed_update("/r/a", bump)
    assert result["n"] == 11 and calls == 2
    before = await store.revision()
    await store.guaranteed_update("/r/a", lambda o: o)
    assert await store.revision() == before


async def test_watch_from_a_revision_with_previous_objects() -> None:
    store = MemoryStorage()
    start = await store.revision()
    created = await store.create("/r/a", {"metadata": {}, "v": 1})
    await store.update("/r/a", {**created, "v": 2}, int(created["metadata"]["resourceVersion"]))
    await store.delete("/r/a")
    await store.create("/other/x", {"metadata": {}})
    events = []

    async def collect() -> None:
        async for ev in store.watch("/r/", start):
            events.append(ev)
            if len(events) == 3:
                return
    await asyncio.wait_for(collect(), 2)
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1].prev["v"] == 1 and events[2].obj is None and events[2].prev["v"] == 2


async def test_watch_before_compaction_is_refused() -> None:
    store = MemoryStorage()
    obj = await store.create("/r/a", {"metadata": {}})
    store.compact(await store.revision())
    with pytest.raises(Compacted):
        async for _ in store.watch("/r/", int(obj["metadata"]["resourceVersion"]) - 1):
            break


async def test_paused_watches_hold_events_until_expired() -> None:
    store = MemoryStorage()
    start = await store.revision()
    seen: list[str] = []

    async def collect() -> None:
        async for ev in store.watch("/r/", start):
            seen.append(ev.key)

    watch = asyncio.create_task(collect())
    await store.create("/r/a", {"metadata": {}})
    await eventually(lambda: seen == ["/r/a"], 2, "the first event")
    store.pause_watches()
    await store.create("/r/b", {"metadata": {}})
    await holds_for(lambda: seen == ["/r/a"] and not watch.done(), 0.2, "a paused watch")
    store.expire_watches()
    with pytest.raises(Compacted):
        await asyncio.wait_for(watch, 2)
    assert seen == ["/r/a"]
    async for ev in store.watch("/r/", start):  # a new watch is not paused any more
        assert ev.key == "/r/a"
        break
