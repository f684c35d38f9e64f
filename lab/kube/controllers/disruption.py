"""Disruption controller (upstream `pkg/controller/disruption`, `--controllers` name
`disruption`): keeps each PodDisruptionBudget's status, which the pods/eviction subresource
reads. sync(key): the pods its selector picks; how many there should be (the pods themselves
for an integer minAvailable, else the replicas of their Deployment or ReplicaSet); how many must
stay healthy; how many are (ready, not terminating, not evicted moments ago); and so how many
may be disrupted now, with the DisruptionAllowed condition."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.podutil import is_ready
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.intstr import is_percent, scaled_value
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)
DELETION_TIMEOUT = timedelta(minutes=2)  # an evicted pod not seen terminating by then counts again


class NoControllerError(Exception):
    """A pod whose owner's scale the budget needs has none we know."""


def selected(pdb: Obj, pods: list[Obj]) -> list[Obj]:
    selector = spec_of(pdb).get("selector")
    if selector is None:
        return []
    sel = LabelSelector.from_object(selector)
    return [p for p in pods if sel.matches(meta.labels(p))]


def set_condition(status: Obj, allowed: bool, reason: str, message: str = "") -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
    old = next((c for c in status.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
    state = "True" if allowed else "False"
    since = old["lastTransitionTime"] if old and old.get("status") == state else meta.now()
    conditions.append({"type": "DisruptionAllowed", "status": state, "reason": reason, "message": message,
                       "lastTransitionTime": since})
    status["conditions"] = conditions


class DisruptionController:
    name = "disruption"

    def __init__(self, client: Client, informers: SharedInformers,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client, self.clock = client, clock
        self.pdbs = informers.get(catalog.PDBS)
        self.pods = informers.get(catalog.PODS)
        self.replicasets = informers.get(catalog.REPLICASETS)
        self.deployments = informers.get(catalog.DEPLOYMENTS)
        self.queue = WorkQueue(self.name)
        self.pdbs.add_handler(self._enqueue, lambda _old, new: self._enqueue(new))
        self.pods.add_handler(self._pod_changed, lambda old, new: self._pod_changed(new, old), self._pod_changed)
        for owners in (self.replicasets, self.deployments):
            owners.add_handler(self._namespace_changed, lambda _old, new: self._namespace_changed(new),
                               self._namespace_changed)

    def _enqueue(self, pdb: Obj) -> None:
        self.queue.add(meta.key(pdb))

    def _pod_changed(self, pod: Obj, old: Obj | None = None) -> None:
        for pdb in self.pdbs.store.by_index(NAMESPACE_INDEX, meta.namespace(pod)):
            if selected(pdb, [pod]) or (old is not None and selected(pdb, [old])):
                self.queue.add(meta.key(pdb))

    def _namespace_changed(self, owner: Obj) -> None:
        for pdb in self.pdbs.store.by_index(NAMESPACE_INDEX, meta.namespace(owner)):
            self.queue.add(meta.key(pdb))

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    def _scale_of(self, pod: Obj) -> tuple[str, int]:
        """The pod's scalable controller (uid, replicas): its Deployment through its ReplicaSet, or
        the ReplicaSet itself (upstream's finders)."""
        ref = meta.controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            raise NoControllerError(f"found no controllers for pod {meta.name(pod)!r}")
        rs = self.replicasets.store.get(f"{meta.namespace(pod)}/{ref.get('name')}")
        if rs is None or meta.uid(rs) != ref.get("uid"):
            raise NoControllerError(f"found no controllers for pod {meta.name(pod)!r}")
        owner = meta.controller_ref(rs)
        if owner is not None and owner.get("kind") == "Deployment":
            deployment = self.deployments.store.get(f"{meta.namespace(rs)}/{owner.get('name')}")
            if deployment is not None and meta.uid(deployment) == owner.get("uid"):
                return meta.uid(deployment), int(spec_of(deployment).get("replicas", 1))
        return meta.uid(rs), int(spec_of(rs).get("replicas", 1))

    def _expected(self, pdb: Obj, pods: list[Obj]) -> tuple[int, int]:
        """(expectedPods, desiredHealthy), upstream `getExpectedPodCount`."""
        spec = spec_of(pdb)
        min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
        if max_unavailable is None and min_available is None:
            return 0, 0  # policy/v1 without either: every healthy pod may go
        if max_unavailable is None and min_available is not None and not is_percent(min_available):
            return len(pods), int(min_available)
        scales = dict(self._scale_of(p) for p in pods)
        expected = sum(scales.values())
        if max_unavailable is not None:
            return expected, max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
        return expected, math.ceil(int(str(min_available)[:-1]) * expected / 100)

    async def sync(self, key: str) -> None:
        pdb = self.pdbs.store.get(key)
        if pdb is None or meta.is_deleting(pdb):
            return
        now = self.clock()
        pods = selected(pdb, self.pods.store.by_index(NAMESPACE_INDEX, meta.namespace(pdb)))
        status = dict(status_of(pdb))
        by_name = {meta.name(p): p for p in pods}
        disrupted: dict[str, str] = {}
        recheck: float | None = None
        for name, when in (status.get("disruptedPods") or {}).items():
            pod = by_name.get(name)
            if pod is None or meta.is_deleting(pod):
                continue  # its deletion was seen: it counts as gone, not disrupted
            expires = meta.parse_time(when) + DELETION_TIMEOUT
            if expires <= now:
                log.info("pdb %s: pod %s was expected to be deleted but it was not", key, name)
                continue
            disrupted[name] = when
            left = (expires - now).total_seconds()
            recheck = left if recheck is None else min(recheck, left)
        healthy = sum(1 for p in pods if is_ready(p) and not meta.is_deleting(p) and meta.name(p) not in disrupted)
        try:
            expected, desired = self._expected(pdb, pods)
        except NoControllerError as exc:
            status.update(disruptionsAllowed=0, currentHealthy=healthy, observedGeneration=meta.generation(pdb))
            set_condition(status, False, "SyncFailed", str(exc))
        else:
            allowed = max(0, healthy - desired)
            status.update(currentHealthy=healthy, desiredHealthy=desired, expectedPods=expected,
                          disruptionsAllowed=allowed, observedGeneration=meta.generation(pdb))
            set_condition(status, allowed > 0, "SufficientPods" if allowed > 0 else "InsufficientPods")
        if disrupted:
            status["disruptedPods"] = disrupted
        else:
            status.pop("disruptedPods", None)
        if not semantically_equal(status, status_of(pdb)):
            try:
                await self.client.update(catalog.PDBS, {**pdb, "status": status}, subresource="status")
            except errors.NotFound:
                return
        if recheck is not None:
            self.queue.add_after(key, recheck + 0.5)
