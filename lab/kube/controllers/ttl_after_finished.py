"""TTL-after-finished controller (upstream `pkg/controller/ttlafterfinished`, `--controllers`
name `ttl-after-finished-controller`): a finished Job with `spec.ttlSecondsAfterFinished` is
deleted (foreground, so its pods go first) that many seconds after its Complete or Failed
condition turned True. Before deleting, the Job is read fresh from the API server, as upstream
does, so a TTL just changed or removed by a user is honoured."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.podutil import condition
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)


def seconds_left(job: Obj, now: datetime) -> float | None:
    """Until the Job may be deleted; None when it has no TTL or has not finished."""
    ttl = spec_of(job).get("ttlSecondsAfterFinished")
    if ttl is None or meta.is_deleting(job):
        return None
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind) or {}
        if cond.get("status") == "True" and cond.get("lastTransitionTime"):
            finished = meta.parse_time(cond["lastTransitionTime"])
            return float(ttl) - (now - finished).total_seconds()
    return None


class TTLAfterFinishedController:
    name = "ttl-after-finished-controller"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.jobs = informers.get(catalog.JOBS)
        self.queue = WorkQueue(self.name)
        self.jobs.add_handler(self._enqueue, lambda _old, new: self._enqueue(new))

    def _enqueue(self, job: Obj) -> None:
        if spec_of(job).get("ttlSecondsAfterFinished") is not None:
            self.queue.add(meta.key(job))

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        cached = self.jobs.store.get(key)
        if cached is None or (left := seconds_left(cached, datetime.now(UTC))) is None:
            return
        if left > 0:
            self.queue.add_after(key, left)
            return
        namespace, _, name = key.partition("/")
        try:
            fresh = await self.client.get(catalog.JOBS, name, namespace)
        except errors.NotFound:
            return
        left = seconds_left(fresh, datetime.now(UTC))
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left)
            return
        log.info("cleaning up job %s: its ttlSecondsAfterFinished ran out", key)
        try:
            await self.client.delete(catalog.JOBS, name, namespace, propagation_policy="Foreground",
                                     preconditions={"uid": meta.uid(fresh)})
        except (errors.NotFound, errors.Conflict):
            return
