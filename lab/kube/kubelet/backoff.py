"""Crash-loop and image-pull back-off, as upstream's flowcontrol.Backoff (10 s doubling to 300 s).

Keyed by pod uid + container name. The first failure restarts at once; each further failure
within the window doubles the wait; an entry idle for twice the maximum starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = INITIAL, maximum: float = MAXIMUM,
                 clock: Callable[[], float] = time.time) -> None:
        self.initial, self.maximum, self.clock = initial, maximum, clock
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def remaining(self, key: str, since: float) -> float:
        """Seconds still to wait after an event at `since` (e.g. the container's finish), 0 if none."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry):
            return 0.0
        return max(0.0, since + entry.backoff - self.clock())

    def next(self, key: str) -> None:
        """Record one more failure: start at `initial`, else double up to `maximum`."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is None or self._expired(entry):
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.backoff, entry.last_update = min(entry.backoff * 2, self.maximum), now

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def _expired(self, entry: _Entry) -> bool:
        return self.clock() - entry.last_update > 2 * self.maximum
