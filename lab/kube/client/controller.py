"""`run_controller`: the worker loop every controller shares (sample-controller's processNextWorkItem).

Workers take keys from the queue and call the controller's level-triggered `sync(key)`;
success forgets the key's backoff, failure logs and re-queues it rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lab.kube.client.workqueue import WorkQueue
from lab.kube.machinery import errors

log = logging.getLogger(__name__)



async def _worker(queue: WorkQueue, sync: Callable[[Any], Awaitable[None]]) -> None:
    while True:
        key = await queue.get()
        if key is None:
            return
        try:
            await sync(key)
        except asyncio.CancelledError:
            queue.done(key)
            raise
        except errors.APIError as exc:
            # API errors (conflicts, not-found races) are routine: a line, not a traceback
            log.warning("%s: error syncing %r, requeuing: %s", queue.name, key, exc)
            queue.add_rate_limited(key)
        except Exception:
            log.exception("%s: error syncing %r, requeuing", queue.name, key)
            queue.add_rate_limited(key)
        else:
            queue.forget(key)
        queue.done(key)


async def run_controller(queue: WorkQueue, sync: Callable[[Any], Awaitable[None]], workers: int = 1) -> None:
    """Run `workers` concurrent workers until the queue shuts down (or this task is cancelled)."""
    async with asyncio.TaskGroup() as group:
        for i in range(max(1, workers)):
            group.create_task(_worker(queue, sync), name=f"{queue.name or 'queue'}-worker-{i}")
