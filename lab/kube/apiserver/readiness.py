"""What /readyz reports, as upstream's named checks: `ping`, `etcd` (storage answers),
`informer-sync` (the authorizers' caches, RBAC's policy and the Node graph, did their first
sync) and `poststarthook/rbac/bootstrap-roles` (bootstrap reconciled the system objects once).

While etcd is away the server keeps running and says it is not ready. A request authorized
from a cache that has not synced would be refused wrongly, so readiness waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.kube.apiserver.storage import Storage

READY_CHECK_TIMEOUT = 2.0  # seconds: a probe must answer before the kubelet's own probe times out


@dataclass
class Readiness:
    storage: Storage
    """The storage whose answer (a revision read) is the `etcd` check."""
    bootstrapped: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by bootstrap once the system namespaces and the `kubernetes` Service exist."""
    caches_synced: Callable[[], bool] = lambda: True
    """True once every authorizer cache did its first sync (`informer-sync`)."""

    async def checks(self) -> list[tuple[str, str | None]]:
        """(name, None when passing or the reason) for each check, in upstream's order."""
        try:
            async with asyncio.timeout(READY_CHECK_TIMEOUT):
                await self.storage.revision()
            etcd: str | None = None
        except Exception as exc:  # any failure means "not ready"; the reason is logged
            etcd = str(exc) or type(exc).__name__
        return [("ping", None), ("etcd", etcd),
                ("informer-sync", None if self.caches_synced() else "authorizer caches not synced yet"),
                ("poststarthook/rbac/bootstrap-roles",
                 None if self.bootstrapped.is_set() else "bootstrap objects not reconciled yet")]

    async def problem(self) -> str | None:
        """None when ready, else the first failing check's reason."""
        return next((f"{name}: {why}" for name, why in await self.checks() if why), None)
