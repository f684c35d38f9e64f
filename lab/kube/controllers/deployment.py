"""Deployment controller: one ReplicaSet per pod template, rolled over by strategy.

sync: claim ReplicaSets, find or create the new one (`<name>-<pod-template-hash>`), then
RollingUpdate (scale the new one up within maxSurge, old ones down within maxUnavailable)
or Recreate (old to zero, wait for their pods to go, then the new one), clean up history
beyond revisionHistoryLimit, and write status with Available/Progressing conditions.
"""

from __future__ import annotations

import copy
import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import NORMAL, EventRecorder
from lab.kube.controllers import deployment_util as du
from lab.kube.controllers.deployment_status import calculate_status, is_complete
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.informers import (
    NAMESPACE_INDEX,
    OWNER_UID_INDEX,
    SharedInformers,
)
from lab.kube.controllers.podutil import is_active
from lab.kube.controllers.refmanager import claim
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)
DEFAULT_REVISION_HISTORY_LIMIT = 10


class DeploymentController:
    name = "deployment"

    def __init__(self, client: Client, informers: SharedInformers, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.recorder = recorder or EventRecorder(client, "deployment-controller")
        self.d_informer = informers.get(catalog.DEPLOYMENTS)
        self.rs_informer = informers.get(catalog.REPLICASETS)
        self.pod_informer = informers.get(catalog.PODS)
        self.queue = WorkQueue("deployment")
        self.d_informer.add_handler(self._enqueue, lambda old, new: self._enqueue(new), self._enqueue)
        self.rs_informer.add_handler(self._rs_changed, lambda old, new: self._rs_changed(new), self._rs_changed)
        self.pod_informer.add_handler(on_delete=self._pod_deleted)

    def _enqueue(self, d: Obj) -> None:
        self.queue.add(meta.key(d))

    def _rs_changed(self, rs: Obj) -> None:
        ref = meta.controller_ref(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                self.queue.add(f"{meta.namespace(rs)}/{ref.get('name')}")
            return
        for d in self.d_informer.store.by_index(NAMESPACE_INDEX, meta.namespace(rs)):
            if LabelSelector.from_object(spec_of(d).get("selector")).matches(meta.labels(rs)):
                self.queue.add(meta.key(d))

    def _pod_deleted(self, pod: Obj) -> None:
        # Recreate waits for old pods to be gone: their deletion is what lets it continue
        ref = meta.controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rs_informer.store.get(f"{meta.namespace(pod)}/{ref.get('name')}")
        if rs is not None:
            self._rs_changed(rs)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    # --- sync --------------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        d = self.d_informer.store.get(key)
        if d is None:
            return
        selector = LabelSelector.from_object(spec_of(d).get("selector"))
        if selector.empty:
            log.warning("deployment %s selects all pods: refusing to act", key)
            return
        candidates = self.rs_informer.store.by_index(NAMESPACE_INDEX, meta.namespace(d))
        rses = await claim(self.client, catalog.REPLICASETS, d, selector, candidates)
        if meta.is_deleting(d):
            await self.sync_status(d, rses, du.find_new_rs(d, rses))
            return
        if spec_of(d).get("paused") or du.is_scaling_event(d, rses):
            await self.scale_only(d, rses)
            return
        if (spec_of(d).get("strategy") or {}).get("type") == "Recreate":
            await self.rollout_recreate(d, rses)
        else:
            await self.rollout_rolling(d, rses)

    async def rollout_rolling(self, d: Obj, rses: list[Obj]) -> None:
        new_rs, old = await self.get_new_rs(d, rses, create=True)
        assert new_rs is not None
        all_rses = [*old, new_rs]
        wanted = du.new_rs_new_replicas(d, all_rses, new_rs)
        if wanted != du.replicas_of(new_rs):
            await self.scale(d, new_rs, wanted)
            return  # status follows from the RS events
        if await self.reconcile_old(d, all_rses, old, new_rs):
            return
        status = await self.sync_status(d, all_rses, new_rs)
        if is_complete(d, status):
            await self.cleanup(d, old)

    async def reconcile_old(self, d: Obj, all_rses: list[Obj], old: list[Obj], new_rs: Obj) -> bool:
        """Scale old ReplicaSets down as far as availability allows; True when something changed."""
        if not any(du.replicas_of(rs) for rs in old):
            return False
        budget = du.max_scaled_down(d, all_rses, new_rs)
        if budget <= 0:
            return False
        changed = False
        # unhealthy old replicas go first: removing them costs no availability
        for rs in du.by_revision(old):
            unhealthy = du.replicas_of(rs) - int(status_of(rs).get("availableReplicas") or 0)
            step = min(budget, max(unhealthy, 0))
            if step > 0:
                rs = await self.scale(d, rs, du.replicas_of(rs) - step)
                budget -= step
                changed = True
        if changed:
            return True
        _, max_unavailable = du.rolling_params(d)
        min_available = du.replicas_of(d) - max_unavailable
        available = sum(int(status_of(rs).get("availableReplicas") or 0) for rs in all_rses)
        budget = available - min_available
        for rs in du.by_revision(old):
            if budget <= 0:
                break
            step = min(du.replicas_of(rs), budget)
            if step > 0:
                await self.scale(d, rs, du.replicas_of(rs) - step)
                budget -= step
                changed = True
        return changed

    async def rollout_recreate(self, d: Obj, rses: list[Obj]) -> None:
        new_rs, old = await self.get_new_rs(d, rses, create=False)
        active_old = [rs for rs in old if du.replicas_of(rs) > 0]
        if active_old:
            for rs in active_old:
                await self.scale(d, rs, 0)
            return
        old_uids = {meta.uid(rs) for rs in old}
        if any(is_active(p) for uid in old_uids for p in self.pod_informer.store.by_index(OWNER_UID_INDEX, uid)):
            await self.sync_status(d, rses, new_rs)
            return  # old pods still running: Recreate means none may overlap
        if new_rs is None:
            new_rs, old = await self.get_new_rs(d, rses, create=True)
            assert new_rs is not None
        if du.replicas_of(new_rs) != du.replicas_of(d):
            await self.scale(d, new_rs, du.replicas_of(d))
            return
        status = await self.sync_status(d, [*old, new_rs], new_rs)
        if is_complete(d, status):
            await self.cleanup(d, old)

    async def scale_only(self, d: Obj, rses: list[Obj]) -> None:
        """A replicas change (or a paused deployment): resize what runs, roll nothing (upstream `sync`)."""
        new_rs = du.find_new_rs(d, rses)
        active = [rs for rs in rses if du.replicas_of(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else new_rs
            if target is not None:
                await self.scale(d, target, du.replicas_of(d))
        else:
            targets = du.proportional_targets(d, active)
            for rs in active:
                await self.scale(d, rs, targets[meta.uid(rs)])
        await self.sync_status(d, rses, new_rs)

    # --- ReplicaSet writes ---------------------------------------------------------------------------
    async def get_new_rs(self, d: Obj, rses: list[Obj], create: bool) -> tuple[Obj | None, list[Obj]]:
        existing = du.find_new_rs(d, rses)
        old = [rs for rs in rses if existing is None or meta.uid(rs) != meta.uid(existing)]
        revision = du.max_revision(old) + 1
        surge, _ = du.rolling_params(d)
        if existing is not None:  # the current RS: the newest revision, and the Deployment's annotations
            if du.revision_of(existing) < revision or any(
                    meta.annotations(existing).get(k) != v for k, v in du.copied_annotations(d).items()):
                existing = await self._write_rs(d, existing, du.replicas_of(existing),
                                                max(revision, du.revision_of(existing)), new=True)
            await self._set_deployment_revision(d, du.revision_of(existing))
            return existing, old
        if not create:
            return None, old
        collisions = int(status_of(d).get("collisionCount") or 0)
        pod_hash = du.compute_hash(spec_of(d).get("template") or {}, collisions)
        replicas = du.new_rs_new_replicas(d, old, {"spec": {"replicas": 0}})
        rs = du.new_replica_set(d, pod_hash, replicas, revision, surge)
        try:
            created = await self.client.create(catalog.REPLICASETS, rs, meta.namespace(d))
        except errors.AlreadyExists:
            live = await self.client.get(catalog.REPLICASETS, meta.name(rs), meta.namespace(d))
            ref = meta.controller_ref(live) or {}
            if ref.get("uid") == meta.uid(d) and du.equal_ignore_hash(
                    spec_of(live).get("template") or {}, spec_of(d).get("template") or {}):
                return live, old
            # a hash collision with someone else's ReplicaSet: bump collisionCount and retry
            updated = copy.deepcopy(d)
            updated.setdefault("status", {})["collisionCount"] = collisions + 1
            await self.client.update(catalog.DEPLOYMENTS, updated, subresource="status")
            raise
        log.info("Scaled up replica set %s to %d (created, revision %d)", meta.name(created), replicas, revision)
        if replicas > 0:
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled up replica set {meta.name(created)} to {replicas}")
        await self._set_deployment_revision(d, revision)
        return created, old

    async def scale(self, d: Obj, rs: Obj, replicas: int) -> Obj:
        before = du.replicas_of(rs)
        updated = await self._write_rs(d, rs, replicas, du.revision_of(rs))
        if replicas != before:  # annotation-only writes are not scaling
            direction = "up" if replicas > before else "down"
            message = f"Scaled {direction} replica set {meta.name(rs)} to {replicas} from {before}"
            log.info("%s", message)
            self.recorder.event(d, NORMAL, "ScalingReplicaSet", message)
        return updated

    async def _write_rs(self, d: Obj, rs: Obj, replicas: int, revision: int, new: bool = False) -> Obj:
        """Size `rs` and stamp it; the `new` (current) RS also gets the Deployment's annotations."""
        surge, _ = du.rolling_params(d)
        annotations = {**(du.copied_annotations(d) if new else {}), du.REVISION: str(revision),
                       du.DESIRED_REPLICAS: str(du.replicas_of(d)), du.MAX_REPLICAS: str(du.replicas_of(d) + surge)}
        if du.replicas_of(rs) == replicas and all(meta.annotations(rs).get(k) == v for k, v in annotations.items()):
            return rs
        updated = copy.deepcopy(rs)
        updated.setdefault("spec", {})["replicas"] = replicas
        updated["metadata"].setdefault("annotations", {}).update(annotations)
        return await self.client.update(catalog.REPLICASETS, updated)

    async def _set_deployment_revision(self, d: Obj, revision: int) -> None:
        if meta.annotations(d).get(du.REVISION) != str(revision):
            await self.client.patch(catalog.DEPLOYMENTS, meta.name(d),
                                    {"metadata": {"annotations": {du.REVISION: str(revision)}}}, meta.namespace(d))

    async def cleanup(self, d: Obj, old: list[Obj]) -> None:
        """Delete the oldest idle ReplicaSets beyond revisionHistoryLimit."""
        limit = spec_of(d).get("revisionHistoryLimit")
        limit = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit)
        idle = [rs for rs in du.by_revision(old) if du.replicas_of(rs) == 0 and not meta.is_deleting(rs)
                and not int(status_of(rs).get("replicas") or 0)]
        for rs in idle[:max(len(idle) - limit, 0)]:
            log.info("cleaning up old replica set %s of %s", meta.name(rs), meta.key(d))
            try:
                await self.client.delete(catalog.REPLICASETS, meta.name(rs), meta.namespace(rs),
                                         preconditions={"uid": meta.uid(rs)})
            except errors.NotFound:
                pass

    async def sync_status(self, d: Obj, all_rses: list[Obj], new_rs: Obj | None) -> Obj:
        status = calculate_status(d, all_rses, new_rs)
        if not semantically_equal(status, status_of(d)):
            # a status patch, not a PUT: our own revision annotation patch must not make it conflict
            await self.client.patch(catalog.DEPLOYMENTS, meta.name(d), {"status": status}, meta.namespace(d),
                                    subresource="status")
        if not is_complete(d, status) and spec_of(d).get("progressDeadlineSeconds") is not None:
            # re-check later even without events, so ProgressDeadlineExceeded can be reported
            self.queue.add_after(meta.key(d), 30)
        return status
