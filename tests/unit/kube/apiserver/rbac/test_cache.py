"""The policy cache follows the registries by watching, and re-lists after a 410."""

from __future__ import annotations

import asyncio

from lab.kube.apiserver.rbac import PolicyCache
from lab.kube.apiserver.rbac import policy as p
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery import catalog
from tests.support import eventually


async def test_cache_lists_watches_and_relists_after_compaction() -> None:
    async with InMemoryAPI() as api:
        assert api.server is not None
        cache = PolicyCache(api.server.context.registries)
        task = asyncio.create_task(cache.run())
        try:
            await asyncio.wait_for(cache.synced.wait(), 5)
            assert cache.get(catalog.CLUSTERROLES, "", "cluster-admin") is not None  # the bootstrap policy
            await api.seed(catalog.ROLES, p.role("a", "default", []))
            await eventually(lambda: cache.get(catalog.ROLES, "default", "a"), 5, "role a cached")
            await api.delete(catalog.ROLES, "a", "default")
            await eventually(lambda: cache.get(catalog.ROLES, "default", "a") is None, 5, "role a gone")

            api.pause_watches()  # b is missed by the open watches...
            await api.seed(catalog.ROLES, p.role("b", "default", []))
            api.compact()
            api.expire_watches()  # ...until the 410 makes the cache list again
            await eventually(lambda: cache.get(catalog.ROLES, "default", "b"), 5, "role b re-listed")
        finally:
            task.cancel()
