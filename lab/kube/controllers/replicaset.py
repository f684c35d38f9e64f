"""ReplicaSet controller: keep `spec.replicas` active pods that match the selector.

sync: claim pods (adopt/release), create the missing ones in slow-start batches
(1, 2, 4, ...) or delete the surplus (least useful first), and write status. Expectations
keep it from acting twice on the same gap while its own writes travel back via the informer.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import NORMAL, WARNING, EventRecorder
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.expectations import Expectations
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.podcontrol import create_pod
from lab.kube.controllers.podutil import is_active, is_available, is_ready
from lab.kube.controllers.refmanager import claim
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1


def pod_from_template(rs: Obj) -> Obj:
    template = spec_of(rs).get("template") or {}
    tmeta = meta.metadata(template)
    md: Obj = {"generateName": f"{meta.name(rs)}-", "namespace": meta.namespace(rs),
               "labels": dict(tmeta.get("labels") or {}), "ownerReferences": [meta.new_controller_ref(rs)]}
    if tmeta.get("annotations"):
        md["annotations"] = dict(tmeta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": copy.deepcopy(spec_of(template))}


def _phase_rank(pod: Obj) -> int:
    return {"Pending": 0, "Unknown": 1, "Running": 2}.get(status_of(pod).get("phase", "Pending"), 0)


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """Least valuable first (upstream ActivePods ordering): unassigned, pending, not ready, newest."""
    def rank(pod: Obj) -> tuple[int, int, int, str]:
        assigned = 1 if spec_of(pod).get("nodeName") else 0
        created = meta.metadata(pod).get("creationTimestamp") or ""
        return (assigned, _phase_rank(pod), 1 if is_ready(pod) else 0, _invert(created))
    return sorted(pods, key=rank)


def _invert(timestamp: str) -> str:
    """Sort newer timestamps first inside an ascending sort."""
    return "".join(chr(0x10FFFF - ord(c)) for c in timestamp)


def slow_start_batches(count: int, initial: int = SLOW_START_INITIAL_BATCH) -> list[int]:
    out, batch, left = [], initial, count
    while left > 0:
        size = min(batch, left)
        out.append(size)
        left -= size
        batch *= 2
    return out


def calculate_status(rs: Obj, pods: list[Obj]) -> Obj:
    spec = spec_of(rs)
    template_labels = meta.labels(spec.get("template") or {})
    min_ready = int(spec.get("minReadySeconds") or 0)
    status = copy.deepcopy(status_of(rs))
    status.update(
        replicas=len(pods),
        fullyLabeledReplicas=sum(1 for p in pods
                                 if all(meta.labels(p).get(k) == v for k, v in template_labels.items())),
        readyReplicas=sum(1 for p in pods if is_ready(p)),
        availableReplicas=sum(1 for p in pods if is_available(p, min_ready)),
        observedGeneration=meta.generation(rs),
    )
    return status


class ReplicaSetController:
    name = "replicaset"

    def __init__(self, client: Client, informers: SharedInformers, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.recorder = recorder or EventRecorder(client, "replicaset-controller")
        self.rs_informer = informers.get(catalog.REPLICASETS)
        self.pod_informer = informers.get(catalog.PODS)
        self.queue = WorkQueue("replicaset")
        self.expectations = Expectations()
        self.rs_informer.add_handler(self._enqueue, lambda old, new: self._enqueue(new), self._enqueue)
        self.pod_informer.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # --- handlers: only find the ReplicaSet key ----------------------------------------------
    def _enqueue(self, rs: Obj) -> None:
        self.queue.add(meta.key(rs))

    def _owner_key(self, pod: Obj) -> str | None:
        ref = meta.controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return None
        rs = self.rs_informer.store.get(f"{meta.namespace(pod)}/{ref.get('name')}")
        return meta.key(rs) if rs is not None and meta.uid(rs) == ref.get("uid") else None

    def _matching_sets(self, pod: Obj) -> list[str]:
        out = []
        for rs in self.rs_informer.store.by_index(NAMESPACE_INDEX, meta.namespace(pod)):
            if LabelSelector.from_object(spec_of(rs).get("selector")).matches(meta.labels(pod)):
                out.append(meta.key(rs))
        return out

    def _pod_added(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif meta.controller_ref(pod) is None:
            for k in self._matching_sets(pod):
                self.queue.add(k)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        old_key, new_key = self._owner_key(old), self._owner_key(new)
        if new_key and meta.is_deleting(new) and not meta.is_deleting(old):
            self.expectations.deletion_observed(new_key, meta.key(new))  # graceful delete has begun
        if old_key and old_key != new_key:
            self.queue.add(old_key)
        if new_key:
            self.queue.add(new_key)
            rs = self.rs_informer.store.get(new_key) or {}
            min_ready = int(spec_of(rs).get("minReadySeconds") or 0)
            if min_ready and not is_ready(old) and is_ready(new):
                self.queue.add_after(new_key, min_ready + 1)  # re-check availability later
        elif meta.controller_ref(new) is None and (meta.labels(old) != meta.labels(new) or meta.controller_ref(old)):
            for k in self._matching_sets(new):
                self.queue.add(k)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, meta.key(pod))
            self.queue.add(key)

    # --- the reconcile loop ----------------------------------------------------------------------
    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        rs = self.rs_informer.store.get(key)
        if rs is None:
            self.expectations.delete(key)
            return
        selector = LabelSelector.from_object(spec_of(rs).get("selector"))
        candidates = [p for p in self.pod_informer.store.by_index(NAMESPACE_INDEX, meta.namespace(rs)) if is_active(p)]
        pods = await claim(self.client, catalog.PODS, rs, selector, candidates)
        if self.expectations.satisfied(key) and not meta.is_deleting(rs):
            await self.manage_replicas(key, rs, pods)
        await self.update_status(rs, pods)

    async def manage_replicas(self, key: str, rs: Obj, pods: list[Obj]) -> None:
        want = int(spec_of(rs).get("replicas", 1))
        diff = len(pods) - want
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            self.expectations.expect_creations(key, count)
            log.info("Too few replicas for %s, need %d, creating %d", key, want, count)
            created = await self._create_in_batches(key, rs, count)
            if created < count:
                raise RuntimeError(f"created only {created} of {count} pods for ReplicaSet {key}")
        elif diff > 0:
            doomed = deletion_order(pods)[:min(diff, BURST_REPLICAS)]
            self.expectations.expect_deletions(key, [meta.key(p) for p in doomed])
            log.info("Too many replicas for %s, need %d, deleting %d", key, want, len(doomed))
            results = await asyncio.gather(*(self._delete(rs, p) for p in doomed), return_exceptions=True)
            for pod, result in zip(doomed, results, strict=True):
                if isinstance(result, BaseException):
                    self.expectations.deletion_observed(key, meta.key(pod))
                    raise result

    async def _create_in_batches(self, key: str, rs: Obj, count: int) -> int:
        """Slow start: a failing create (quota, admission) stops the burst early (upstream slowStartBatch)."""
        created = 0
        for size in slow_start_batches(count):
            results = await asyncio.gather(*(self._create(rs) for _ in range(size)), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            created += size - len(failures)
            if failures:
                for _ in range(count - created):  # never coming: stop waiting for them
                    self.expectations.creation_observed(key)
                log.warning("failed to create pods for %s: %r", key, failures[0])
                return created
        return created

    async def _create(self, rs: Obj) -> None:
        await create_pod(self.client, self.recorder, rs, pod_from_template(rs))

    async def _delete(self, rs: Obj, pod: Obj) -> None:
        try:
            await self.client.delete(catalog.PODS, meta.name(pod), meta.namespace(pod),
                                     preconditions={"uid": meta.uid(pod)})
        except errors.NotFound:
            return
        except errors.APIError as exc:
            self.recorder.event(rs, WARNING, "FailedDelete", f"Error deleting: {exc}")
            raise
        self.recorder.event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta.name(pod)}")

    async def update_status(self, rs: Obj, pods: list[Obj]) -> None:
        status = calculate_status(rs, pods)
        if semantically_equal(status, status_of(rs)):
            return
        # a patch: the deployment controller may have just changed spec.replicas (a PUT would conflict)
        await self.client.patch(catalog.REPLICASETS, meta.name(rs), {"status": status}, meta.namespace(rs),
                                subresource="status")
        min_ready = int(spec_of(rs).get("minReadySeconds") or 0)
        if min_ready and status["readyReplicas"] != status["availableReplicas"]:
            self.queue.add_after(meta.key(rs), min_ready)
