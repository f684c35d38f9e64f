"""CronJob controller (upstream `pkg/controller/cronjob`, the v2 controller; `--controllers`
name `cronjob`): at each scheduled time a Job from the template, named `<cronjob>-<minutes since
the epoch>` so a restart never runs one time twice.

sync(key): reconcile `status.active` with the Jobs this CronJob owns (finished ones leave it,
with a SawCompletedJob Event and lastSuccessfulTime); unless suspended, find the most recent
unmet schedule time since lastScheduleTime (or creation), no older than
`startingDeadlineSeconds`; apply `concurrencyPolicy` (Allow, Forbid: skip while one runs,
Replace: delete the running ones); create the Job; trim finished Jobs to the history limits;
requeue for the next scheduled time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import NORMAL, WARNING, EventRecorder
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.job import finished_condition
from lab.kube.controllers.podutil import condition
from lab.kube.machinery import catalog, cron, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100  # upstream: more unmet times than this is a warning, and only the latest runs


def job_name(cronjob: Obj, scheduled: datetime) -> str:
    return f"{meta.name(cronjob)}-{int(scheduled.timestamp() // 60)}"


def most_recent_unmet(schedule: cron.Schedule, earliest: datetime, now: datetime) -> tuple[datetime | None, int]:
    """The latest scheduled time in (earliest, now] and how many there were (capped past 100)."""
    latest, count, t = None, 0, schedule.next_after(earliest)
    while t is not None and t <= now:
        latest, count = t, count + 1
        if count > MAX_MISSED:
            # jump to the last time before now rather than walking every missed minute
            t = schedule.next_after(now - timedelta(days=1))
            while t is not None and t <= now:
                latest, t = t, schedule.next_after(t)
            break
        t = schedule.next_after(t)
    return latest, count


def job_from_template(cronjob: Obj, scheduled: datetime, zone: Any) -> Obj:
    template = spec_of(cronjob).get("jobTemplate") or {}
    tmeta = meta.metadata(template)
    annotations = {**(tmeta.get("annotations") or {}),
                   SCHEDULED_TIMESTAMP: scheduled.astimezone(zone).isoformat().replace("+00:00", "Z")}
    md: Obj = {"name": job_name(cronjob, scheduled), "namespace": meta.namespace(cronjob),
               "annotations": annotations, "ownerReferences": [meta.new_controller_ref(cronjob)]}
    if tmeta.get("labels"):
        md["labels"] = dict(tmeta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": md, "spec": dict(spec_of(template))}


def job_ref(job: Obj) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta.name(job), "namespace": meta.namespace(job),
            "uid": meta.uid(job), "resourceVersion": meta.resource_version(job)}


def _started(job: Obj) -> str:
    return str(status_of(job).get("startTime") or meta.metadata(job).get("creationTimestamp") or "")


class CronJobController:
    name = "cronjob"

    def __init__(self, client: Client, informers: SharedInformers,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client, self.clock = client, clock
        self.recorder = EventRecorder(client, "cronjob-controller")
        self.cronjobs = informers.get(catalog.CRONJOBS)
        self.jobs = informers.get(catalog.JOBS)
        self.queue = WorkQueue(self.name)
        self.cronjobs.add_handler(self._enqueue, lambda _old, new: self._enqueue(new))
        self.jobs.add_handler(self._job_changed, lambda _old, new: self._job_changed(new), self._job_changed)

    def _enqueue(self, cronjob: Obj) -> None:
        self.queue.add(meta.key(cronjob))

    def _job_changed(self, job: Obj) -> None:
        ref = meta.controller_ref(job)
        if ref is not None and ref.get("kind") == "CronJob":
            self.queue.add(f"{meta.namespace(job)}/{ref.get('name')}")

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        cronjob = self.cronjobs.store.get(key)
        if cronjob is None:
            return
        spec, status = spec_of(cronjob), dict(status_of(cronjob))
        owned = [j for j in self.jobs.store.by_index(NAMESPACE_INDEX, meta.namespace(cronjob))
                 if (meta.controller_ref(j) or {}).get("uid") == meta.uid(cronjob)]
        self._reconcile_active(cronjob, status, owned)
        try:
            if meta.is_deleting(cronjob) or spec.get("suspend"):
                return
            zone = cron.zone(spec.get("timeZone"))
            schedule = cron.parse(str(spec.get("schedule") or ""))
        except cron.CronError as exc:
            reason = "UnknownTimeZone" if "time zone" in str(exc) else "UnparseableSchedule"
            self.recorder.event(cronjob, WARNING, reason, str(exc))
            return
        finally:
            if not semantically_equal(status, status_of(cronjob)):
                cronjob = await self._write_status(cronjob, status)
        now = self.clock().astimezone(zone)
        await self._run_due(key, cronjob, schedule, zone, now, owned)
        await self._trim_history(cronjob, owned)
        following = schedule.next_after(self.clock().astimezone(zone))
        if following is not None:
            self.queue.add_after(key, max(0.1, (following - self.clock()).total_seconds() + 0.1))

    def _reconcile_active(self, cronjob: Obj, status: Obj, owned: list[Obj]) -> None:
        active = list(status.get("active") or [])
        by_uid = {meta.uid(j): j for j in owned}
        listed = {ref.get("uid") for ref in active}
        for job in owned:
            done = finished_condition(job)
            if done is None and meta.uid(job) not in listed:
                active.append(job_ref(job))
            elif done is not None and meta.uid(job) in listed:
                active = [r for r in active if r.get("uid") != meta.uid(job)]
                self.recorder.event(cronjob, NORMAL, "SawCompletedJob",
                                    f"Saw completed job: {meta.name(job)}, status: {done}")
            if done == "Complete":
                finished_at = status_of(job).get("completionTime") or (condition(job, "Complete") or {}).get(
                    "lastTransitionTime")
                if finished_at and (not status.get("lastSuccessfulTime") or meta.parse_time(
                        finished_at) > meta.parse_time(status["lastSuccessfulTime"])):
                    status["lastSuccessfulTime"] = finished_at
        gone = [r for r in active if r.get("uid") not in by_uid]
        for ref in gone:
            self.recorder.event(cronjob, NORMAL, "MissingJob", f"Active job went missing: {ref.get('name')}")
        status["active"] = [r for r in active if r.get("uid") in by_uid]
        if not status["active"]:
            status.pop("active")

    async def _run_due(self, key: str, cronjob: Obj, schedule: cron.Schedule, zone: Any, now: datetime,
                       owned: list[Obj]) -> None:
        spec, status = spec_of(cronjob), dict(status_of(cronjob))
        since = status.get("lastScheduleTime") or meta.metadata(cronjob).get("creationTimestamp") or meta.now()
        earliest = meta.parse_time(since).astimezone(zone)
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        scheduled, count = most_recent_unmet(schedule, earliest, now)
        if scheduled is None:
            return
        if count > MAX_MISSED:
            self.recorder.event(cronjob, WARNING, "TooManyMissedTimes",
                                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
                                "check clock skew")
        running = [j for j in owned if finished_condition(j) is None]
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and running:
            self.recorder.event(cronjob, NORMAL, "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is "
                                "Forbid")
            return
        if policy == "Replace":
            for old in running:
                await self._delete_job(cronjob, old)
            status.pop("active", None)
        job: Obj | None
        try:
            job = await self.client.create(catalog.JOBS, job_from_template(cronjob, scheduled, zone),
                                           meta.namespace(cronjob))
        except errors.AlreadyExists:  # made before a restart: this time is met
            job = None
        except errors.APIError as exc:
            self.recorder.event(cronjob, WARNING, "FailedCreate", f"Error creating job: {exc}")
            raise
        if job is not None:
            log.info("cronjob %s: created job %s for %s", key, meta.name(job), meta.format_time(scheduled))
            self.recorder.event(cronjob, NORMAL, "SuccessfulCreate", f"Created job {meta.name(job)}")
            status["active"] = [*(status.get("active") or []), job_ref(job)]
        status["lastScheduleTime"] = meta.format_time(scheduled)
        await self._write_status(cronjob, status)

    async def _trim_history(self, cronjob: Obj, owned: list[Obj]) -> None:
        spec = spec_of(cronjob)
        for kind, limit_key in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
            limit = spec.get(limit_key)
            if limit is None:
                continue
            done = sorted((j for j in owned if finished_condition(j) == kind), key=_started)
            for job in done[:max(0, len(done) - int(limit))]:
                await self._delete_job(cronjob, job)

    async def _delete_job(self, cronjob: Obj, job: Obj) -> None:
        try:
            await self.client.delete(catalog.JOBS, meta.name(job), meta.namespace(job), propagation_policy="Background",
                                     preconditions={"uid": meta.uid(job)})
        except (errors.NotFound, errors.Conflict):
            return
        self.recorder.event(cronjob, NORMAL, "SuccessfulDelete", f"Deleted job {meta.name(job)}")

    async def _write_status(self, cronjob: Obj, status: Obj) -> Obj:
        """Compare-and-swap on the cached object: a Conflict (the cache is behind our own last
        write) fails the sync, which the queue retries once the informer caught up."""
        updated: Obj = await self.client.update(catalog.CRONJOBS, {**cronjob, "status": status},
                                                subresource="status")
        return updated
