"""A core/v1 Event recorder: what `kubectl describe` shows under Events.

Any component records through it (the scheduler's Scheduled/FailedScheduling, the controllers'
SuccessfulCreate/ScalingReplicaSet). Repeats of the same (object, type, reason, message) are
aggregated into one Event whose `count` and `lastTimestamp` are patched, like client-go's
EventCorrelator. Writes are fire-and-forget tasks owned by the recorder; a failed write is
logged, never raised: an event is never worth failing the work it describes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

import aiohttp

from lab.kube.client.client import Client
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
CACHE_SIZE = 4096  # upstream's maxLruCacheEntries
NORMAL, WARNING = "Normal", "Warning"


def involved_object(obj: Obj) -> Obj:
    return {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", ""), "name": meta.name(obj),
            "namespace": meta.namespace(obj), "uid": meta.uid(obj),
            "resourceVersion": meta.resource_version(obj)}


class EventRecorder:
    """`component` is `source.component` (e.g. `default-scheduler`, `replicaset-controller`)."""

    def __init__(self, client: Client, component: str, host: str = "") -> None:
        self.client = client
        self.component = component
        self.host = host
        self._seen: OrderedDict[tuple[str, str, str, str], tuple[str, int]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        """Record without waiting (called from scheduling and sync code paths)."""
        task = asyncio.create_task(self.record(obj, type_, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        namespace = meta.namespace(obj) or "default"
        key = (meta.uid(obj) or meta.key(obj), type_, reason, message)
        now = meta.now()
        try:
            seen = self._seen.get(key)
            if seen is not None:
                name, count = seen
                try:
                    await self.client.patch(catalog.EVENTS, name, {"count": count + 1, "lastTimestamp": now},
                                            namespace)
                    self._remember(key, name, count + 1)
                    return
                except errors.NotFound:
                    pass  # the event expired (TTL): create a fresh one
            name = f"{meta.name(obj)}.{time.time_ns():x}"
            ev = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": involved_object(obj),
                "reason": reason, "message": message, "type": type_,
                "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": self.component, "reportingInstance": self.host,
            }
            await self.client.create(catalog.EVENTS, ev, namespace)
            self._remember(key, name, 1)
        # RuntimeError: the client's session closed under an in-flight write at shutdown
        except (errors.APIError, OSError, aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            log.warning("could not record event %s %s for %s: %r", type_, reason, meta.key(obj), exc)

    def _remember(self, key: tuple[str, str, str, str], name: str, count: int) -> None:
        self._seen[key] = (name, count)
        self._seen.move_to_end(key)
        while len(self._seen) > CACHE_SIZE:
            self._seen.popitem(last=False)

    async def close(self) -> None:
        """Let in-flight writes finish (briefly) at shutdown."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
