"""The informer: list, then watch from the list's resourceVersion, into a local Store.

Handlers see adds, updates and deletes; after a 410 or a dropped watch the informer
re-lists and diffs against its cache, so deletes missed while disconnected still arrive.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from lab.kube.client.client import Client
from lab.kube.client.store import Store
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
MIN_BACKOFF, MAX_BACKOFF = 1.0, 30.0
MIN_WATCH_TIMEOUT = 300  # client-go: watches last 5-10 minutes, then re-watch from the last RV


@dataclass(frozen=True)
class Handler:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj], None] | None = None


class Informer:
    """Keeps `store` in sync with one resource (optionally one namespace / selector)."""

    def __init__(self, client: Client, res: Resource, namespace: str | None = None,
                 label_selector: str | None = None, field_selector: str | None = None,
                 resync_period: float | None = None) -> None:
        self.client = client
        self.res = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.store = Store()
        self.resource_version = ""
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()

    def add_handler(self, on_add: Callable[[Obj], None] | None = None,
                    on_update: Callable[[Obj, Obj], None] | None = None,
                    on_delete: Callable[[Obj], None] | None = None) -> None:
        """Register plain callables (they should only enqueue keys). Late handlers get the cache as adds."""
        handler = Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if handler.on_add and self._synced.is_set():
            for obj in self.store.list():
                self._call(handler.on_add, obj)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Return once the first list is in the cache (raises TimeoutError after `timeout`)."""
        async with asyncio.timeout(timeout):
            await self._synced.wait()

    async def run(self) -> None:
        """List and watch until cancelled; errors re-list with backoff (1 s doubling to 30 s)."""
        resync = asyncio.create_task(self._resync_loop()) if self.resync_period else None
        backoff = MIN_BACKOFF
        try:
            while True:
                try:
                    await self._list()
                    backoff = MIN_BACKOFF
                    await self._watch_until_broken()
                except (errors.Expired, errors.Gone) as exc:
                    log.info("%s: watch expired (%s), re-listing", self.res.group_resource, exc)
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # connection drops, server errors: re-list after a pause
                    log.warning("%s: list/watch failed, retrying in %.0fs: %r",
                                self.res.group_resource, backoff, exc)
                    await asyncio.sleep(backoff * random.uniform(1.0, 1.2))
                    backoff = min(backoff * 2, MAX_BACKOFF)
        finally:
            if resync is not None:
                resync.cancel()

    async def _list(self) -> None:
        result = await self.client.list(self.res, self.namespace, self.label_selector, self.field_selector)
        self._replace(result.get("items") or [], meta.metadata(result).get("resourceVersion", ""))

    async def _watch_until_broken(self) -> None:
        """Watch from the current RV; a server-side timeout just re-watches, errors propagate."""
        loop = asyncio.get_running_loop()
        while True:
            timeout = random.randint(MIN_WATCH_TIMEOUT, 2 * MIN_WATCH_TIMEOUT)
            started = loop.time()
            async for event in self.client.watch(self.res, self.namespace, self.resource_version,
                                                 self.label_selector, self.field_selector, timeout):
                self._apply(event.type, event.object)
            if loop.time() - started < 1.0:
                await asyncio.sleep(1.0)  # a server closing watches at once must not make us spin

    def _replace(self, items: list[Obj], resource_version: str) -> None:
        """Make the cache equal to a fresh list, telling handlers what changed."""
        fresh = {meta.key(obj): obj for obj in items}
        for key in self.store.keys():
            if key not in fresh:
                old = self.store.remove(key)
                if old is not None:
                    self._notify_delete(old)
        for obj in items:
            self._upsert(obj)
        self.resource_version = resource_version
        self._synced.set()

    def _apply(self, kind: str, obj: Obj) -> None:
        rv = meta.resource_version(obj)
        if kind in ("ADDED", "MODIFIED"):
            self._upsert(obj)
        elif kind == "DELETED":
            old = self.store.remove(meta.key(obj))
            if old is not None:
                self._notify_delete(obj)
        elif kind != "BOOKMARK":
            log.warning("%s: unknown watch event type %r", self.res.group_resource, kind)
        if rv:
            self.resource_version = rv

    def _upsert(self, obj: Obj) -> None:
        old = self.store.get(meta.key(obj))
        if old is not None and meta.resource_version(old) == meta.resource_version(obj):
            return  # nothing changed (re-list or duplicate event): no update to hand out
        self.store.put(obj)
        for h in self._handlers:
            if old is None and h.on_add:
                self._call(h.on_add, obj)
            elif old is not None and h.on_update:
                self._call(h.on_update, old, obj)

    def _notify_delete(self, obj: Obj) -> None:
        for h in self._handlers:
            if h.on_delete:
                self._call(h.on_delete, obj)

    def _call(self, fn: Callable[..., None], *args: Obj) -> None:
        try:
            fn(*args)
        except Exception:  # one bad handler must not stop the cache from following the server
            log.exception("%s: event handler %r failed", self.res.group_resource, fn)

    async def _resync_loop(self) -> None:
        """Periodically replay every cached object as an update (level-triggered safety net)."""
        assert self.resync_period
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in self.store.list():
                for h in self._handlers:
                    if h.on_update:
                        self._call(h.on_update, obj, obj)
