"""Controller expectations: how many creates/deletes a controller still waits to see.

A ReplicaSet that just created 3 pods must not create them again before the informer
shows them; until the expected adds/deletes are observed (or 5 minutes pass, in case an
event was lost) `satisfied` is False and sync only refreshes status (upstream
`ControllerExpectations`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Record:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)  # pod keys we deleted and wait to see gone
    timestamp: float = 0.0


class Expectations:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        rec = self._records.get(key)
        if rec is None:
            return True
        if rec.adds <= 0 and not rec.deletes:
            return True
        return self.clock() - rec.timestamp > EXPECTATIONS_TIMEOUT

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Record(adds=count, timestamp=self.clock())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = _Record(deletes=set(pod_keys), timestamp=self.clock())

    def creation_observed(self, key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        rec = self._records.get(key)
        if rec is not None:
            rec.deletes.discard(pod_key)

    def delete(self, key: str) -> None:
        self._records.pop(key, None)
