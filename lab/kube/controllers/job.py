"""Job controller (upstream `pkg/controller/job`, `--controllers` name `job`): run pods until
`completions` succeed, `parallelism` at a time, NonIndexed or Indexed.

sync(key), level-triggered over the Job and pod informers:
1. claim the pods; a Job that is gone, being deleted or finished only releases the tracking
   finalizers of its pods;
2. finished pods are recorded in `status.uncountedTerminatedPods` first, their
   `batch.kubernetes.io/job-tracking` finalizer is removed next, and only then are they counted in
   `succeeded`/`failed` (and `completedIndexes`), so a restart never loses or double-counts one;
3. the Job fails past `backoffLimit` (BackoffLimitExceeded) or `activeDeadlineSeconds`
   (DeadlineExceeded), completes once `completions` succeeded, or is suspended/resumed;
4. otherwise the active pods are brought to what parallelism and the remaining completions want,
   replacements for failed pods held back by the exponential back-off (10 s doubling, at most
   10 min).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import UTC, datetime

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import NORMAL, WARNING, EventRecorder
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.expectations import Expectations
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.job_pods import (
    TRACKING_FINALIZER,
    backoff_remaining,
    completion_index,
    failure_rule,
    format_indexes,
    is_finished,
    is_succeeded,
    only_replace_failed,
    parse_indexes,
    pod_for,
    restarts_past_limit,
)
from lab.kube.controllers.podcontrol import create_pod, delete_pod
from lab.kube.controllers.podutil import condition, is_ready, is_terminal
from lab.kube.controllers.refmanager import claim
from lab.kube.controllers.replicaset import deletion_order
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)
BURST = 500
BACKOFF_LIMIT = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")


def finished_condition(job: Obj) -> str | None:
    for kind in ("Complete", "Failed"):
        if (condition(job, kind) or {}).get("status") == "True":
            return kind
    return None


def set_condition(status: Obj, kind: str, state: str, reason: str = "", message: str = "") -> bool:
    """Upstream `ensureJobConditionStatus`: True when something changed."""
    now = meta.now()
    conditions = status.setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == kind:
            if c.get("status") == state and c.get("reason", "") == reason and c.get("message", "") == message:
                return False
            if c.get("status") != state:
                c["lastTransitionTime"] = now
            c.update(status=state, lastProbeTime=now)
            for key, value in (("reason", reason), ("message", message)):
                if value:
                    c[key] = value
                else:
                    c.pop(key, None)
            return True
    if state != "True" and kind == "Suspended":
        return False  # never suspended: nothing to say
    new = {"type": kind, "status": state, "lastProbeTime": now, "lastTransitionTime": now}
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    conditions.append(new)
    return True


class JobController:
    name = "job"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.recorder = EventRecorder(client, "job-controller")
        self.jobs = informers.get(catalog.JOBS)
        self.pods = informers.get(catalog.PODS)
        self.queue = WorkQueue(self.name)
        self.expectations = Expectations()
        self.jobs.add_handler(self._enqueue, lambda old, new: self._enqueue(new), self._enqueue)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def _enqueue(self, job: Obj) -> None:
        self.queue.add(meta.key(job))

    @staticmethod
    def _owner_key(pod: Obj) -> str | None:
        ref = meta.controller_ref(pod)
        if ref is None or ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
            return None
        return f"{meta.namespace(pod)}/{ref.get('name')}"

    def _pod_added(self, pod: Obj) -> None:
        if (key := self._owner_key(pod)) is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif meta.controller_ref(pod) is None:  # an orphan: a Job whose selector matches may adopt it
            for job in self.jobs.store.by_index(NAMESPACE_INDEX, meta.namespace(pod)):
                if LabelSelector.from_object(spec_of(job).get("selector")).matches(meta.labels(pod)):
                    self.queue.add(meta.key(job))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        key = self._owner_key(new)
        if key is not None and meta.is_deleting(new) and not meta.is_deleting(old):
            self.expectations.deletion_observed(key, meta.key(new))
        for k in {self._owner_key(old), key} - {None}:
            assert k is not None
            self.queue.add(k)

    def _pod_deleted(self, pod: Obj) -> None:
        if (key := self._owner_key(pod)) is not None:
            self.expectations.deletion_observed(key, meta.key(pod))
            self.queue.add(key)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    # --- the reconcile loop ----------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        namespace = key.partition("/")[0]
        job = self.jobs.store.get(key)
        in_namespace = self.pods.store.by_index(NAMESPACE_INDEX, namespace)
        # pods of an earlier Job of this name (or of this one, once gone) keep no finalizer of ours
        stale = [p for p in in_namespace if self._owner_key(p) == key and (
            job is None or (meta.controller_ref(p) or {}).get("uid") != meta.uid(job))]
        await self._release(stale)
        if job is None:
            self.expectations.delete(key)
            return
        if meta.is_deleting(job) or finished_condition(job):
            owned = [p for p in in_namespace if (meta.controller_ref(p) or {}).get("uid") == meta.uid(job)]
            # once the Job is done every pod that is not running on counts as finished, as upstream:
            # a pod stuck terminating on a lost node must not keep its finalizer
            done = [p for p in owned if is_finished(p, job) or meta.is_deleting(p) or meta.is_deleting(job)]
            await self._release(done)
            return
        selector = LabelSelector.from_object(spec_of(job).get("selector"))
        pods = await claim(self.client, catalog.PODS, job, selector, in_namespace)
        job = await self._track_finished(job, pods)
        await self._reconcile(key, job, pods)

    async def _track_finished(self, job: Obj, pods: list[Obj]) -> Obj:
        """Steps 2: record, release, count. Returns the Job as last written."""
        status = copy.deepcopy(status_of(job))
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        recorded = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])
        finished = [p for p in pods if TRACKING_FINALIZER in meta.finalizers(p) and is_finished(p, job)]
        new = [p for p in finished if meta.uid(p) not in recorded]
        new = [p for p in new if (failure_rule(job, p) or ("",))[0] != "Ignore"]  # released, never counted
        if new:
            for pod in new:
                bucket = "succeeded" if is_succeeded(pod) else "failed"
                uncounted[bucket] = [*(uncounted.get(bucket) or []), meta.uid(pod)]
            job = await self._write_status(job, status)
            status = copy.deepcopy(status_of(job))
            uncounted = status.setdefault("uncountedTerminatedPods", {})
        released = await self._release(finished)
        still_held = {meta.uid(p) for p in finished} - released
        by_uid = {meta.uid(p): p for p in pods}
        completions = int(spec_of(job).get("completions") or 0)
        indexed = spec_of(job).get("completionMode") == "Indexed"
        done = parse_indexes(status.get("completedIndexes") or "", completions)
        changed = False
        for bucket in ("succeeded", "failed"):
            keep = []
            for uid in uncounted.get(bucket) or []:
                if uid in still_held:
                    keep.append(uid)
                    continue
                changed = True
                owner = by_uid.get(uid)
                index = completion_index(owner) if owner is not None else None
                if bucket == "succeeded" and indexed:
                    if index is not None and index < completions and index not in done:
                        done.add(index)
                        status["succeeded"] = int(status.get("succeeded") or 0) + 1
                else:
                    status[bucket] = int(status.get(bucket) or 0) + 1
            uncounted[bucket] = keep
        if indexed:
            status["completedIndexes"] = format_indexes(done)
        if changed:
            job = await self._write_status(job, status)
        return job

    async def _reconcile(self, key: str, job: Obj, pods: list[Obj]) -> None:
        spec, status = spec_of(job), copy.deepcopy(status_of(job))
        uncounted = status.get("uncountedTerminatedPods") or {}
        succeeded = int(status.get("succeeded") or 0) + len(uncounted.get("succeeded") or [])
        failed = int(status.get("failed") or 0) + len(uncounted.get("failed") or [])
        active = [p for p in pods if not is_terminal(p) and not meta.is_deleting(p)]
        terminating = [p for p in pods if not is_terminal(p) and meta.is_deleting(p)]
        now = datetime.now(UTC)
        events: list[tuple[str, str, str]] = []
        suspended = bool(spec.get("suspend"))
        if suspended:
            if set_condition(status, "Suspended", "True", "JobSuspended", "Job suspended"):
                events.append((NORMAL, "Suspended", "Job suspended"))
        else:
            if set_condition(status, "Suspended", "False", "JobResumed", "Job resumed"):
                events.append((NORMAL, "Resumed", "Job resumed"))
                status["startTime"] = meta.now()  # a resumed Job's deadline counts from now
            status.setdefault("startTime", meta.now())

        failure = None
        target = condition(job, "FailureTarget") or {}
        matched = next((m for p in pods if (m := failure_rule(job, p)) is not None and m[0] == "FailJob"), None)
        if target.get("status") == "True":
            failure = (str(target.get("reason") or ""), str(target.get("message") or ""))
        elif matched is not None:
            failure = ("PodFailurePolicy", matched[1])
        elif failed > int(spec.get("backoffLimit") or 0) or restarts_past_limit(job, active):
            failure = BACKOFF_LIMIT
        elif (deadline := self._deadline_left(job, status, now)) is not None and deadline <= 0:
            failure = DEADLINE
        if failure is not None and failure[0] == "PodFailurePolicy":
            # upstream 1.30: FailureTarget at once, Failed once no pod of the Job is left running
            if set_condition(status, "FailureTarget", "True", *failure):
                events.append((WARNING, *failure))
            await self._delete_pods(job, active)
            if not active and not terminating:
                set_condition(status, "Failed", "True", *failure)
            active = []
        elif failure is not None:
            await self._delete_pods(job, active)
            set_condition(status, "Failed", "True", *failure)
            events.append((WARNING, *failure))
            active = []
        elif self._complete(job, status, succeeded, active):
            set_condition(status, "Complete", "True")
            status["completionTime"] = meta.now()
            events.append((NORMAL, "Completed", "Job completed"))
        elif self.expectations.satisfied(key):
            active = await self._manage(key, job, pods, active, terminating, succeeded, suspended, now)
            if (left := self._deadline_left(job, status, now)) is not None:
                self.queue.add_after(key, left + 0.5)

        status.update(active=len(active), ready=sum(1 for p in active if is_ready(p)),
                      terminating=len(terminating), succeeded=int(status.get("succeeded") or 0),
                      failed=int(status.get("failed") or 0))
        if not semantically_equal(status, status_of(job)):
            await self._write_status(job, status)
        for kind, reason, message in events:
            self.recorder.event(job, kind, reason, message)

    @staticmethod
    def _deadline_left(job: Obj, status: Obj, now: datetime) -> float | None:
        limit = spec_of(job).get("activeDeadlineSeconds")
        if limit is None or not status.get("startTime") or spec_of(job).get("suspend"):
            return None
        return float(limit) - (now - meta.parse_time(status["startTime"])).total_seconds()

    @staticmethod
    def _complete(job: Obj, status: Obj, succeeded: int, active: list[Obj]) -> bool:
        spec = spec_of(job)
        if spec.get("suspend") or active or status.get("uncountedTerminatedPods", {}).get("succeeded"):
            return False
        completions = spec.get("completions")
        if completions is None:
            return succeeded > 0
        if spec.get("completionMode") == "Indexed":
            return len(parse_indexes(status.get("completedIndexes") or "", int(completions))) >= int(completions)
        return succeeded >= int(completions)

    async def _manage(self, key: str, job: Obj, pods: list[Obj], active: list[Obj], terminating: list[Obj],
                      succeeded: int, suspended: bool, now: datetime) -> list[Obj]:
        """Step 4; returns the active pods left."""
        spec = spec_of(job)
        parallelism = int(spec.get("parallelism") or 0)
        completions = spec.get("completions")
        indexed = spec.get("completionMode") == "Indexed"
        surplus: list[Obj] = []
        to_create: list[int | None] = []
        if indexed and completions is not None:
            done = parse_indexes(status_of(job).get("completedIndexes") or "", int(completions))
            seen: set[int] = set()
            keep = []
            for pod in sorted(active, key=lambda p: meta.metadata(p).get("creationTimestamp") or ""):
                index = completion_index(pod)
                if index is None or index >= int(completions) or index in done or index in seen:
                    surplus.append(pod)  # a duplicate, a finished or an impossible index
                else:
                    seen.add(index)
                    keep.append(pod)
            want = 0 if suspended else min(parallelism, int(completions) - len(done))
            busy = {completion_index(p) for p in keep}
            if only_replace_failed(job):
                busy |= {completion_index(p) for p in terminating}
            pending = [i for i in range(int(completions)) if i not in done and i not in busy]
            surplus += deletion_order(keep)[:max(0, len(keep) - want)]
            to_create = list(pending[:max(0, want - len(busy - {None}))])
        else:
            if suspended:
                want = 0
            elif completions is None:
                want = parallelism if succeeded == 0 else len(active)
            else:
                want = max(0, min(parallelism, int(completions) - succeeded))
            counted = len(active) + (len(terminating) if only_replace_failed(job) else 0)
            surplus = deletion_order(active)[:max(0, len(active) - want)]
            to_create = [None] * max(0, want - counted)
        if surplus:
            surplus = surplus[:BURST]
            self.expectations.expect_deletions(key, [meta.key(p) for p in surplus])
            await self._delete_pods(job, surplus)
        if to_create:
            wait = backoff_remaining(job, pods, now)
            if wait > 0:
                self.queue.add_after(key, wait)
                log.info("job %s: holding %d replacement pods back %.1fs", key, len(to_create), wait)
            else:
                to_create = to_create[:BURST]
                self.expectations.expect_creations(key, len(to_create))
                created = await self._create_pods(key, job, to_create)
                if created < len(to_create):
                    raise RuntimeError(f"created only {created} of {len(to_create)} pods for Job {key}")
        gone = {meta.uid(p) for p in surplus}
        return [p for p in active if meta.uid(p) not in gone]

    # --- writes ----------------------------------------------------------------------------------
    async def _write_status(self, job: Obj, status: Obj) -> Obj:
        if not status.get("uncountedTerminatedPods", {}).get("succeeded") and not status.get(
                "uncountedTerminatedPods", {}).get("failed"):
            status["uncountedTerminatedPods"] = {}
        if not status.get("completedIndexes"):
            status.pop("completedIndexes", None)
        updated: Obj = await self.client.update(catalog.JOBS, {**job, "status": status}, subresource="status")
        return updated

    async def _create_pods(self, key: str, job: Obj, indexes: list[int | None]) -> int:
        results = await asyncio.gather(*(self._create(job, i) for i in indexes), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for _ in failures:
            self.expectations.creation_observed(key)
        if failures:
            log.warning("job %s: failed to create pods: %r", key, failures[0])
        return len(indexes) - len(failures)

    async def _create(self, job: Obj, index: int | None) -> None:
        await create_pod(self.client, self.recorder, job, pod_for(job, index))

    async def _delete_pods(self, job: Obj, pods: list[Obj]) -> None:
        await asyncio.gather(*(delete_pod(self.client, self.recorder, job, p) for p in pods))

    async def _release(self, pods: list[Obj]) -> set[str]:
        """Remove the tracking finalizer; the uids of the pods now without it (or gone)."""
        async def release(pod: Obj) -> str | None:
            if TRACKING_FINALIZER not in meta.finalizers(pod):
                return meta.uid(pod)
            rest = [f for f in meta.finalizers(pod) if f != TRACKING_FINALIZER]
            try:
                await self.client.patch(catalog.PODS, meta.name(pod), {"metadata": {
                    "finalizers": rest or None, "uid": meta.uid(pod)}}, meta.namespace(pod))
            except (errors.NotFound, errors.Conflict):
                return meta.uid(pod)  # gone, or another pod of that name now
            except errors.APIError as exc:
                log.warning("pod %s: could not remove %s: %s", meta.key(pod), TRACKING_FINALIZER, exc)
                return None
            return meta.uid(pod)
        results = await asyncio.gather(*(release(p) for p in pods))
        return {uid for uid in results if uid is not None}
