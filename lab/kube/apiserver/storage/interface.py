"""The storage interface the API server is written against (like apiserver `storage.Interface`).

Objects are plain dicts; the backend owns `metadata.resourceVersion` (the etcd mod revision)
and sets it on every object it returns. The `guaranteed_update` retry loop lives here, once.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lab.kube.machinery.objects import Obj

UpdateFn = Callable[[Obj], Obj | Awaitable[Obj]]


class StorageError(Exception):
    """Base of the typed storage errors; the registry turns them into API errors."""

    def __init__(self, key: str, message: str = "") -> None:
        super().__init__(message or key)
        self.key = key


class KeyNotFound(StorageError):
    pass


class KeyExists(StorageError):
    pass


class Conflict(StorageError):
    """The compare-and-swap precondition (mod revision) did not hold."""


class Compacted(StorageError):
    """The requested revision is older than the oldest one the store still holds."""

    def __init__(self, key: str, requested: int, compacted: int) -> None:
        super().__init__(key, f"too old resource version: {requested} ({compacted})")
        self.requested = requested
        self.compacted = compacted


class TooLarge(StorageError):
    """The backend refused the value for its size (etcd --max-request-bytes)."""


class Unavailable(StorageError):
    """The backend could not be reached (etcd down, timeout)."""


@dataclass(frozen=True)
class Event:
    """One change under a watched prefix. `obj` is None for deletes; `prev` None for creates."""

    type: str  # "ADDED" | "MODIFIED" | "DELETED"
    key: str
    obj: Obj | None
    prev: Obj | None
    revision: int


def with_rv(obj: Obj, revision: int) -> Obj:
    """Set `metadata.resourceVersion` on a freshly decoded object."""
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def without_rv(obj: Obj) -> Obj:
    """A copy ready to persist: the resourceVersion is derived from etcd, never stored."""
    out = copy.deepcopy(obj)
    out.get("metadata", {}).pop("resourceVersion", None)
    return out


class StaleObj(dict[str, Any]):
    """An object whose stored form is stale (upstream's `stale` from a value transformer:
    read with an encryption key that writes no longer use); its next update must write."""


def is_stale(obj: Obj) -> bool:
    return isinstance(obj, StaleObj)


class Storage(abc.ABC):
    """Get, list, optimistic create/update/delete and watch over string keys."""

    @abc.abstractmethod
    async def get(self, key: str) -> Obj:
        """The object at `key` (raises KeyNotFound)."""

    @abc.abstractmethod
    async def list(self, prefix: str) -> tuple[list[Obj], int]:
        """Objects under `prefix` (sorted by key) and the store revision of the read."""

    @abc.abstractmethod
    async def create(self, key: str, obj: Obj) -> Obj:
        """Store `obj` only if `key` is absent (mod revision 0); raises KeyExists."""

    @abc.abstractmethod
    async def update(self, key: str, obj: Obj, revision: int) -> Obj:
        """Replace the object if its mod revision is still `revision`; raises Conflict/KeyNotFound."""

    @abc.abstractmethod
    async def delete(self, key: str, revision: int | None = None) -> Obj:
        """Remove the object (only at `revision` when given); returns it as last stored."""

    @abc.abstractmethod
    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        """Events with revision > `from_revision` under `prefix`; raises Compacted if too old."""

    @abc.abstractmethod
    async def revision(self) -> int:
        """The current store revision."""

    async def close(self) -> None:  # noqa: B027 - a deliberate no-op default: the memory store holds no connections
        """Release connections."""

    async def guaranteed_update(self, key: str, fn: UpdateFn, *, retries: int = 16) -> Obj:
        """Read, apply `fn` to a copy, write with CAS; retry on conflicts.

        `fn` may raise to abort (e.g. an API error); returning the object unchanged skips
        the write, as upstream does, so no-op updates do not bump the resourceVersion.
        """
        for _ in range(retries):
            current = await self.get(key)
            rev = int(current["metadata"]["resourceVersion"])
            result = fn(copy.deepcopy(current))
            updated = await result if isinstance(result, Awaitable) else result
            # a stale object (read with an old encryption key) is written even when unchanged
            if not is_stale(current) and without_rv(updated) == without_rv(current):
                return current
            try:
                return await self.update(key, updated, rev)
            except Conflict:
                continue
        raise Conflict(key, f"too many conflicts updating {key}")
