"""In-memory storage with etcd's semantics (revisions, CAS, watch from revision, compaction).

Used by unit tests and `--storage-backend=memory`; everything is lost on restart.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator

from lab.kube.apiserver.storage.interface import (
    Compacted,
    Conflict,
    Event,
    KeyExists,
    KeyNotFound,
    Obj,
    Storage,
    with_rv,
    without_rv,
)

HISTORY = 10_000  # events kept for watches that start in the past


class MemoryStorage(Storage):
    def __init__(self, history: int = HISTORY) -> None:
        self._data: dict[str, tuple[Obj, int]] = {}
        self._rev = 1
        self._log: list[Event] = []
        self._history = history
        self._compacted = 0
        self._changed = asyncio.Condition()

    async def revision(self) -> int:
        return self._rev

    async def get(self, key: str) -> Obj:
        if key not in self._data:
            raise KeyNotFound(key)
        obj, rev = self._data[key]
        return with_rv(copy.deepcopy(obj), rev)

    async def list(self, prefix: str) -> tuple[list[Obj], int]:
        items = [with_rv(copy.deepcopy(o), r) for k, (o, r) in sorted(self._data.items())
                 if k.startswith(prefix)]
        return items, self._rev

    async def create(self, key: str, obj: Obj) -> Obj:
        if key in self._data:
            raise KeyExists(key)
        return await self._put(key, obj, None)

    async def update(self, key: str, obj: Obj, revision: int) -> Obj:
        if key not in self._data:
            raise KeyNotFound(key)
        if self._data[key][1] != revision:
            raise Conflict(key)
        return await self._put(key, obj, self._data[key])

    async def delete(self, key: str, revision: int | None = None) -> Obj:
        if key not in self._data:
            raise KeyNotFound(key)
        prev_obj, prev_rev = self._data[key]
        if revision is not None and prev_rev != revision:
            raise Conflict(key)
        del self._data[key]
        self._rev += 1
        prev = with_rv(copy.deepcopy(prev_obj), prev_rev)
        await self._emit(Event("DELETED", key, None, prev, self._rev))
        return prev

    async def _put(self, key: str, obj: Obj, prev: tuple[Obj, int] | None) -> Obj:
        self._rev += 1
        stored = without_rv(obj)
        self._data[key] = (stored, self._rev)
        new = with_rv(copy.deepcopy(stored), self._rev)
        old = with_rv(copy.deepcopy(prev[0]), prev[1]) if prev else None
        await self._emit(Event("MODIFIED" if prev else "ADDED", key, copy.deepcopy(new), old,
                               self._rev))
        return new

    async def _emit(self, event: Event) -> None:
        self._log.append(event)
        if len(self._log) > self._history:
            dropped = self._log[: len(self._log) - self._history]
            self._log = self._log[len(dropped):]
            self._compacted = dropped[-1].revision
        async with self._changed:
            self._changed.notify_all()

    def compact(self, revision: int) -> None:
        """Forget history up to `revision` (as etcd compaction does)."""
        self._log = [e for e in self._log if e.revision > revision]
        self._compacted = max(self._compacted, revision)

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision < self._compacted:
            raise Compacted(prefix, from_revision, self._compacted)
        seen = from_revision
        while True:
            for event in [e for e in self._log if e.revision > seen]:
                seen = event.revision
                if event.key.startswith(prefix):
                    yield copy.deepcopy(event)
            async with self._changed:
                if not self._log or self._log[-1].revision <= seen:
                    await self._changed.wait()
