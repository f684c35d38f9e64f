"""An in-process copy of the four RBAC resources, kept by watching the server's own
registries (what upstream's shared informers give the RBAC authorizer): list, then watch
from the list's resourceVersion; a 410 (compaction) or a dropped watch re-lists. Reads are
dict lookups: the authorizer never touches storage on a request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.options import ListOptions
from lab.kube.apiserver.storage import StorageError
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
KINDS = (catalog.CLUSTERROLES, catalog.CLUSTERROLEBINDINGS, catalog.ROLES, catalog.ROLEBINDINGS)
FIRST_RETRY, MAX_RETRY = 0.2, 5.0


class PolicyCache:
    """`objects[resource][(namespace, name)]`, filled by `run()`; `synced` once every kind
    has been listed."""

    def __init__(self, registries: Mapping[Resource, Registry] | None = None) -> None:
        self.registries = registries or {}
        self.objects: dict[Resource, dict[tuple[str, str], Obj]] = {r: {} for r in KINDS}
        self.synced = asyncio.Event()
        self._listed: set[Resource] = set()

    # --- reads -------------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> Obj | None:
        return self.objects[res].get((namespace, name))

    def list(self, res: Resource, namespace: str | None = None) -> list[Obj]:
        items = self.objects[res].values()
        return [o for o in items if namespace is None or meta.namespace(o) == namespace]

    # --- writes (the watch loop, and tests seeding it directly) -----------------------------
    def put(self, res: Resource, obj: Obj) -> None:
        self.objects[res][(meta.namespace(obj) or "", meta.name(obj))] = obj

    def remove(self, res: Resource, obj: Obj) -> None:
        self.objects[res].pop((meta.namespace(obj) or "", meta.name(obj)), None)

    async def run(self) -> None:
        """Keep every kind current until cancelled."""
        async with asyncio.TaskGroup() as tg:
            for res in KINDS:
                tg.create_task(self._keep(res), name=f"rbac-cache-{res.plural}")

    async def _keep(self, res: Resource) -> None:
        registry, delay = self.registries[res], FIRST_RETRY
        while True:
            try:
                listed = await registry.list(None)
                self.objects[res] = {(meta.namespace(o) or "", meta.name(o)): o for o in listed["items"]}
                self._mark_listed(res)
                delay = FIRST_RETRY
                rv = listed["metadata"]["resourceVersion"]
                async for ev in registry.watch(None, ListOptions(resource_version=rv)):
                    (self.remove if ev.type == "DELETED" else self.put)(res, ev.object)
            except errors.Expired:
                log.info("rbac cache: %s watch expired, re-listing", res.plural)
                continue
            except (errors.APIError, StorageError) as exc:  # storage away: retry, keep the old copy
                log.warning("rbac cache: %s: %s; retrying in %.1fs", res.plural, exc, delay)
            await asyncio.sleep(delay)  # also after a watch that simply ended
            delay = min(delay * 2, MAX_RETRY)

    def _mark_listed(self, res: Resource) -> None:
        self._listed.add(res)
        if len(self._listed) == len(KINDS):
            self.synced.set()
