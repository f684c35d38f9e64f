"""Shared informers: one list+watch per resource, whatever number of controllers read it.

Namespaced stores get a `namespace` index, every store `uid` and owner-uid indexes and pods a
`spec.nodeName` one: the lookups the controllers need (pods of a namespace or a node, owner by uid).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from lab.kube.client import Client, Informer
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import spec_of

NAMESPACE_INDEX = "namespace"
UID_INDEX = "uid"
OWNER_UID_INDEX = "owner-uid"
NODE_NAME_INDEX = "spec.nodeName"  # pods only


def _owner_uids(obj: dict[str, Any]) -> list[str]:
    return [str(r.get("uid")) for r in meta.owner_references(obj) if r.get("uid")]


class SharedInformers:
    def __init__(self, client: Client, resync_period: float | None = None) -> None:
        self.client = client
        self.resync_period = resync_period
        self._informers: dict[Resource, Informer] = {}

    def get(self, res: Resource) -> Informer:
        """The informer for `res`, created on first use (before `start`)."""
        informer = self._informers.get(res)
        if informer is None:
            informer = Informer(self.client, res, resync_period=self.resync_period)
            if res.namespaced:
                informer.store.add_index(NAMESPACE_INDEX, lambda o: [meta.namespace(o)])
            informer.store.add_index(UID_INDEX, lambda o: [meta.uid(o)] if meta.uid(o) else [])
            informer.store.add_index(OWNER_UID_INDEX, _owner_uids)
            if res == catalog.PODS:
                informer.store.add_index(NODE_NAME_INDEX, lambda o: [n] if (n := spec_of(o).get("nodeName")) else [])
            self._informers[res] = informer
        return informer

    def __iter__(self) -> Iterator[tuple[Resource, Informer]]:
        return iter(self._informers.items())

    def start(self, tg: asyncio.TaskGroup) -> None:
        for res, informer in self._informers.items():
            tg.create_task(informer.run(), name=f"informer-{res.group_resource}")

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))
