"""In-memory storage with etcd's semantics (revisions, CAS, watch from revision, compaction).

Used by unit tests and `--storage-backend=memory`; everything is lost on restart. Tests can
also hold back what open watches hear (`pause_watches`) and end them all with the error etcd
sends after a compaction (`expire_watches`), so clients' re-list paths run for real.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
from collections.abc import AsyncIterator

from lab.kube.apiserver.storage.interface import (
    Compacted,
    Conflict,
    Event,
    KeyExists,
    KeyNotFound,
    Storage,
    with_rv,
    without_rv,
)
from lab.kube.machinery.objects import Obj

HISTORY = 10_000  # events kept for watches that start in the past


class MemoryStorage(Storage):
    def __init__(self, history: int = HISTORY) -> None:
        self._data: dict[str, tuple[Obj, int]] = {}
        self._rev = 1
        self._log: list[Event] = []
        self._history = history
        self._compacted = 0
        self._wakeup = asyncio.Event()  # set (and replaced) at every change watchers must see
        self._paused = False
        self._epoch = 0  # bumped by expire_watches: watches opened before it end with Compacted

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
        return self._put(key, obj, None)

    async def update(self, key: str, obj: Obj, revision: int) -> Obj:
        if key not in self._data:
            raise KeyNotFound(key)
        if self._data[key][1] != revision:
            raise Conflict(key)
        return self._put(key, obj, self._data[key])

    async def delete(self, key: str, revision: int | None = None) -> Obj:
        if key not in self._data:
            raise KeyNotFound(key)
        prev_obj, prev_rev = self._data[key]
        if revision is not None and prev_rev != revision:
            raise Conflict(key)
        del self._data[key]
        self._rev += 1
        prev = with_rv(copy.deepcopy(prev_obj), prev_rev)
        self._emit(Event("DELETED", key, None, prev, self._rev))
        return prev

    def _put(self, key: str, obj: Obj, prev: tuple[Obj, int] | None) -> Obj:
        self._rev += 1
        stored = without_rv(obj)
        self._data[key] = (stored, self._rev)
        new = with_rv(copy.deepcopy(stored), self._rev)
        old = with_rv(copy.deepcopy(prev[0]), prev[1]) if prev else None
        self._emit(Event("MODIFIED" if prev else "ADDED", key, copy.deepcopy(new), old, self._rev))
        return new

    def _emit(self, event: Event) -> None:
        self._log.append(event)
        if len(self._log) > self._history:
            dropped = self._log[: len(self._log) - self._history]
            self._log = self._log[len(dropped):]
            self._compacted = dropped[-1].revision
        self._wake_watchers()

    def _wake_watchers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def compact(self, revision: int | None = None) -> None:
        """Forget history up to `revision`, by default all of it (as etcd compaction does)."""
        revision = self._rev if revision is None else revision
        self._log = [e for e in self._log if e.revision > revision]
        self._compacted = max(self._compacted, revision)

    def pause_watches(self) -> None:
        """Open (and new) watches hear nothing until `expire_watches`: a partition, for tests."""
        self._paused = True

    def expire_watches(self) -> None:
        """End every open watch with Compacted, as etcd does to a watcher it compacted past;
        lifts `pause_watches`, so what the paused watches missed is never delivered to them."""
        self._paused = False
        self._epoch += 1
        self._wake_watchers()

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        if from_revision < self._compacted:
            raise Compacted(prefix, from_revision, self._compacted)
        seen, epoch = from_revision, self._epoch
        while True:
            wakeup = self._wakeup  # taken before looking: a change after the look sets it
            if self._epoch != epoch:
                raise Compacted(prefix, seen, self._rev)
            at = bisect.bisect_right(self._log, seen, key=lambda e: e.revision)
            if self._paused or at == len(self._log):
                await wakeup.wait()
                continue
            event = self._log[at]
            seen = event.revision
            if event.key.startswith(prefix):
                yield copy.deepcopy(event)
