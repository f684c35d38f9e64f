"""Keeps the Node graph in step with the server's own registries (upstream
`graph_populator.go`, there fed by informers): list, then watch from the list's
resourceVersion; a 410 (compacted history) or a broken watch means list again and replace.

Pods are always followed; persistent volumes once the server serves them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lab.kube.apiserver.node.graph import Graph
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.options import ListOptions
from lab.kube.apiserver.storage import StorageError
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
FIRST_RETRY, MAX_RETRY = 0.2, 5.0  # seconds between attempts while storage is away, doubling


@dataclass(frozen=True)
class _Source:
    """How one resource feeds the graph."""

    resource: Resource
    add: Callable[[Obj], None]
    delete: Callable[[Obj], None]


class GraphPopulator:
    def __init__(self, graph: Graph, registries: Mapping[Resource, Registry]) -> None:
        self.graph = graph
        self.registries = registries
        self.synced = asyncio.Event()
        """Set once every source has been listed into the graph."""
        self._sources = [_Source(catalog.PODS, graph.add_pod,
                                 lambda pod: graph.delete_pod(meta.namespace(pod), meta.name(pod)))]
        pvs = catalog.lookup("", "v1", "persistentvolumes")
        if pvs is not None and pvs in registries:
            self._sources.append(_Source(pvs, graph.add_pv, lambda pv: graph.delete_pv(meta.name(pv))))

    async def run(self) -> None:
        """Follow every source until cancelled."""
        listed = [asyncio.Event() for _ in self._sources]
        async with asyncio.TaskGroup() as tg:
            for source, done in zip(self._sources, listed, strict=True):
                tg.create_task(self._follow(source, done), name=f"node-graph-{source.resource.plural}")
            for done in listed:
                await done.wait()
            self.synced.set()

    async def _follow(self, source: _Source, listed: asyncio.Event) -> None:
        registry = self.registries[source.resource]
        known: dict[str, Obj] = {}  # key -> last object seen, to drop what vanished during a gap
        delay = FIRST_RETRY
        while True:
            try:
                listing = await registry.list(None)
                fresh = {meta.key(obj): obj for obj in listing["items"]}
                for key, gone in known.items():
                    if key not in fresh:
                        source.delete(gone)
                for obj in fresh.values():
                    source.add(obj)
                known = fresh
                listed.set()
                delay = FIRST_RETRY
                opts = ListOptions(resource_version=listing["metadata"]["resourceVersion"])
                async for event in registry.watch(None, opts):
                    key = meta.key(event.object)
                    if event.type == "DELETED":
                        source.delete(event.object)
                        known.pop(key, None)
                    else:
                        source.add(event.object)
                        known[key] = event.object
            except errors.Expired:
                log.info("node graph: %s watch expired; listing again", source.resource.plural)
            except (errors.APIError, StorageError) as exc:
                log.warning("node graph: following %s failed, retrying in %.1fs: %s",
                            source.resource.plural, delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY)
