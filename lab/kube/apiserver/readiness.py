"""What /readyz reports: ready once storage answers and the bootstrap objects are reconciled.

While etcd is away the server keeps running and says why it is not ready; bootstrap marks the
second half done (`bootstrapped`) once, after its first full reconcile.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from lab.kube.apiserver.storage import Storage

READY_CHECK_TIMEOUT = 2.0  # seconds: a probe must answer before the kubelet's own probe times out


@dataclass
class Readiness:
    storage: Storage
    """The storage whose answer (a revision read) is the first condition of readiness."""
    bootstrapped: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by bootstrap once the system namespaces and the `kubernetes` Service exist."""

    async def problem(self) -> str | None:
        """None when ready, else the reason (shown by /readyz?verbose)."""
        try:
            async with asyncio.timeout(READY_CHECK_TIMEOUT):
                await self.storage.revision()
        except Exception as exc:  # any failure means "not ready"; the reason is shown
            return str(exc) or type(exc).__name__
        return None if self.bootstrapped.is_set() else "bootstrap objects not reconciled yet"
