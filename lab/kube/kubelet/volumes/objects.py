"""The ConfigMaps and Secrets a pod's volumes project, fetched through the API and kept for a
while (upstream's cache-based manager, `configMapAndSecretChangeDetectionStrategy: Cache`).

A GET per object at most once per `ttl` keeps the per-pod resync from reaching the API server
on every pass; a changed ConfigMap shows up in the volume within `ttl` plus one resync.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import aiohttp

from lab.kube.client import Client
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

DEFAULT_TTL = 60.0  # upstream's defaultTTL when the node carries no ttl annotation


class ObjectGetter(Protocol):
    async def get(self, resource: Resource, namespace: str, name: str) -> Obj:
        """The object, or the API's `NotFound`."""


class CachedObjects:
    def __init__(self, client: Client, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.ttl, self.clock = client, ttl, clock
        self._cache: dict[tuple[str, str, str], tuple[float, Obj]] = {}

    async def get(self, resource: Resource, namespace: str, name: str) -> Obj:
        key = (resource.plural, namespace, name)
        hit = self._cache.get(key)
        if hit is not None and self.clock() - hit[0] < self.ttl:
            return hit[1]
        obj = await self.client.get(resource, name, namespace)  # errors are not kept: the next pass asks again
        now = self.clock()
        for stale in [k for k, (at, _) in self._cache.items() if now - at >= self.ttl]:
            del self._cache[stale]  # objects no pod asks for any more
        self._cache[key] = (now, obj)
        return obj


class ObjectUnavailable(Exception):
    """A ConfigMap or Secret that could not be had; the text is upstream's."""


async def get_config_object(objects: ObjectGetter, namespace: str, name: str, *, secret: bool,
                            optional: bool = False) -> Obj | None:
    """ConfigMap (or Secret) `name`: None when it is missing and `optional`, else ObjectUnavailable
    (`configmap "x" not found`, `couldn't get secret ns/x: ...`). Volumes, environment variables and
    pull secrets read them the same way."""
    kind = "secret" if secret else "configmap"
    try:
        return await objects.get(catalog.SECRETS if secret else catalog.CONFIGMAPS, namespace, name)
    except errors.NotFound as exc:
        if optional:
            return None
        raise ObjectUnavailable(f'{kind} "{name}" not found') from exc
    except (errors.APIError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ObjectUnavailable(f"couldn't get {kind} {namespace}/{name}: {exc}") from exc
