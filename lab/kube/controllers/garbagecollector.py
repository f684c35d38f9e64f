"""Garbage collector: delete dependents whose owners are all gone; serve orphan/foreground finalizers.

Every watched resource's cache is indexed by owner uid. A dependent is synced when it
appears or changes and when one of its owners is deleted: owners are checked in the cache
and then with a live GET (uid must match) before anything is deleted. Owners deleted with
`propagationPolicy=Orphan` or `Foreground` carry the `orphan` / `foregroundDeletion`
finalizer; the collector releases or deletes their dependents, then removes the finalizer.
"""

from __future__ import annotations

import functools
import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import OWNER_UID_INDEX, UID_INDEX, SharedInformers
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
ORPHAN, FOREGROUND = "orphan", "foregroundDeletion"
DEFAULT_RESOURCES = (catalog.PODS, catalog.REPLICASETS, catalog.DEPLOYMENTS, catalog.SERVICES,
                     catalog.ENDPOINTSLICES, catalog.CONFIGMAPS, catalog.SECRETS)


class GarbageCollector:
    name = "garbagecollector"

    def __init__(self, client: Client, informers: SharedInformers,
                 resources: tuple[Resource, ...] = DEFAULT_RESOURCES) -> None:
        self.client = client
        self.queue = WorkQueue("garbagecollector")
        self.informers = {res.group_resource: informers.get(res) for res in resources}
        self.resources = {res.group_resource: res for res in resources}
        for gr, informer in self.informers.items():
            informer.add_handler(functools.partial(self._changed, gr),
                                 functools.partial(self._updated, gr), self._deleted)

    def _changed(self, gr: str, obj: Obj) -> None:
        if meta.owner_references(obj) or (meta.is_deleting(obj) and {ORPHAN, FOREGROUND} & set(meta.finalizers(obj))):
            self.queue.add(f"{gr}|{meta.key(obj)}")

    def _updated(self, gr: str, old: Obj, new: Obj) -> None:
        self._changed(gr, new)

    def _deleted(self, obj: Obj) -> None:
        for gr, dep in self.dependents(meta.uid(obj)):
            self.queue.add(f"{gr}|{meta.key(dep)}")
        # an owner in foreground deletion waits for exactly this: re-check it
        for ref in meta.owner_references(obj):
            for gr, informer in self.informers.items():
                for owner in informer.store.by_index(UID_INDEX, str(ref.get("uid"))):
                    if FOREGROUND in meta.finalizers(owner):
                        self.queue.add(f"{gr}|{meta.key(owner)}")

    def dependents(self, owner_uid: str) -> list[tuple[str, Obj]]:
        return [(gr, dep) for gr, informer in self.informers.items()
                for dep in informer.store.by_index(OWNER_UID_INDEX, owner_uid)]

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def owner_exists(self, ref: Obj, namespace: str) -> bool:
        res = catalog.by_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if res is None:
            return True  # a kind we cannot look up: never delete on a guess
        informer = self.informers.get(res.group_resource)
        if informer is not None and informer.store.by_index(UID_INDEX, str(ref.get("uid"))):
            return True
        try:  # the cache may lag: only a live read may condemn a dependent (as upstream)
            live = await self.client.get(res, str(ref.get("name")), namespace if res.namespaced else None)
        except errors.NotFound:
            return False
        return meta.uid(live) == ref.get("uid")

    async def sync(self, key: str) -> None:
        gr, _, obj_key = key.partition("|")
        res, informer = self.resources[gr], self.informers[gr]
        obj = informer.store.get(obj_key)
        if obj is None:
            return
        if meta.is_deleting(obj) and {ORPHAN, FOREGROUND} & set(meta.finalizers(obj)):
            await self.finalize_owner(res, obj)
        refs = meta.owner_references(obj)
        if not refs:
            return
        absent = [r for r in refs if not await self.owner_exists(r, meta.namespace(obj))]
        if not absent:
            return
        if len(absent) < len(refs):
            keep = [r for r in refs if r not in absent]
            log.info("removing dangling owner references from %s %s", res.kind, obj_key)
            await self._patch_refs(res, obj, keep)
            return
        if meta.is_deleting(obj):
            return
        log.info("deleting %s %s: all owners are gone", res.kind, obj_key)
        try:
            await self.client.delete(res, meta.name(obj), meta.namespace(obj) or None,
                                     propagation_policy="Background", preconditions={"uid": meta.uid(obj)})
        except (errors.NotFound, errors.Conflict):
            pass  # already gone, or the name now belongs to a new object

    async def finalize_owner(self, res: Resource, owner: Obj) -> None:
        uid, finalizers = meta.uid(owner), meta.finalizers(owner)
        deps = self.dependents(uid)
        if ORPHAN in finalizers:
            for gr, dep in deps:
                await self._patch_refs(self.resources[gr], dep,
                                       [r for r in meta.owner_references(dep) if r.get("uid") != uid])
            await self._remove_finalizer(res, owner, ORPHAN)
            log.info("orphaned %d dependents of %s %s", len(deps), res.kind, meta.key(owner))
        elif FOREGROUND in finalizers:
            waiting = 0
            for gr, dep in deps:
                waiting += 1
                if not meta.is_deleting(dep):
                    try:
                        await self.client.delete(self.resources[gr], meta.name(dep), meta.namespace(dep) or None,
                                                 propagation_policy="Foreground",
                                                 preconditions={"uid": meta.uid(dep)})
                    except errors.NotFound:
                        waiting -= 1
            if waiting == 0:
                await self._remove_finalizer(res, owner, FOREGROUND)
                log.info("foreground deletion of %s %s: dependents gone", res.kind, meta.key(owner))

    async def _patch_refs(self, res: Resource, obj: Obj, refs: list[Obj]) -> None:
        try:
            await self.client.patch(res, meta.name(obj), {"metadata": {"ownerReferences": refs or None,
                                                                       "uid": meta.uid(obj)}},
                                    meta.namespace(obj) or None)
        except errors.NotFound:
            pass

    async def _remove_finalizer(self, res: Resource, obj: Obj, finalizer: str) -> None:
        remaining = [f for f in meta.finalizers(obj) if f != finalizer]
        body = {"metadata": {"finalizers": remaining or None, "resourceVersion": meta.resource_version(obj)}}
        try:
            await self.client.patch(res, meta.name(obj), body, meta.namespace(obj) or None)
        except errors.NotFound:
            pass
