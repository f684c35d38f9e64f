"""Run a component's work under leader election, or directly when election is off.

As upstream's control-plane components do: a replica that loses its lease exits non-zero and
lets its supervisor restart it, rather than trying to stop half-done work in place.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from lab.kube.client import Client, LeaderElector

log = logging.getLogger(__name__)


def identity() -> str:
    """`<hostname>_<uuid>`: the holderIdentity upstream components write into their Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


async def run_leading(client: Client, leader_elect: bool, lease_namespace: str, lease_name: str,
                      holder: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    if not leader_elect:
        await work()
        return
    elector = LeaderElector(client, lease_name, lease_namespace, holder)
    log.info("attempting to acquire leader lease %s/%s...", lease_namespace, lease_name)
    await elector.run(work)
    log.error("leaderelection lost")
    raise SystemExit(1)
