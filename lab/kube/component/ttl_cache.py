"""A small expiring map for webhook answers (upstream's token and SubjectAccessReview caches):
a TokenReview or SubjectAccessReview is asked once per key and TTL, not once per request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")
MAX_ENTRIES = 4096  # upstream's LRU holds 4096 (token) and 1024 (SAR) entries; one bound is enough


class TTLCache(Generic[V]):
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def set(self, key: str, value: V, ttl: float) -> None:
        """Keep `value` for `ttl` seconds; a TTL of 0 (or less) keeps nothing, as upstream."""
        if ttl <= 0:
            return
        if len(self._entries) >= self._max:
            now = self._clock()
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            while len(self._entries) >= self._max:  # still full of live entries: drop the oldest
                del self._entries[next(iter(self._entries))]
        self._entries[key] = (self._clock() + ttl, value)

    def __len__(self) -> int:
        return len(self._entries)
