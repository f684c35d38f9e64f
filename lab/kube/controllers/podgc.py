"""Pod garbage collector (upstream `pkg/controller/podgc`, `--controllers` name `podgc`): every
20 s it force-deletes
- terminated pods (Succeeded/Failed) beyond `--terminated-pod-gc-threshold` (12500; 0 turns it
  off), oldest first;
- orphaned pods, bound to a node that no longer exists (checked with the API server after a
  40 s quarantine, as a Node may simply not be in the cache yet), marked Failed with the
  DisruptionTarget condition (DeletionByPodGC) first;
- terminating pods that were never scheduled (no kubelet will ever finish them);
- terminating pods on a NotReady node tainted `node.kubernetes.io/out-of-service` (the
  non-graceful node shutdown a lab user applies after losing a machine).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from lab.kube.client import Client
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.podutil import condition, is_terminal
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
GC_PERIOD = 20.0
QUARANTINE = 40.0
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
ORPHANED = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
            "message": "PodGC: node no longer exists"}


class _Idle:
    """The controller runs on a timer, not a work queue; `queue.shutdown()` is what the harness calls."""

    def shutdown(self) -> None:
        pass


class PodGarbageCollector:
    name = "podgc"

    def __init__(self, client: Client, informers: SharedInformers, threshold: int = 12500,
                 period: float = GC_PERIOD, quarantine: float = QUARANTINE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.threshold, self.period, self.quarantine, self.clock = (
            client, threshold, period, quarantine, clock)
        self.pods = informers.get(catalog.PODS)
        self.nodes = informers.get(catalog.NODES)
        self.queue = _Idle()
        self.missing_since: dict[str, float] = {}  # node name -> when first seen missing

    async def run(self, workers: int = 1) -> None:
        while True:
            try:
                await self.gc()
            except (errors.APIError, OSError, TimeoutError) as exc:  # the next period tries again
                log.warning("pod garbage collection: %s", exc)
            await asyncio.sleep(self.period)

    async def gc(self) -> None:
        pods = self.pods.store.list()
        await self._gc_terminated(pods)
        await self._gc_orphaned(pods)
        for pod in pods:
            if not meta.is_deleting(pod):
                continue
            node_name = spec_of(pod).get("nodeName")
            node = self.nodes.store.get(node_name) if node_name else None
            if not node_name:
                await self._force_delete(pod, "terminating and never scheduled")
            elif node is not None and self._out_of_service(node):
                await self._force_delete(pod, "terminating on a node out of service")

    @staticmethod
    def _out_of_service(node: Obj) -> bool:
        ready = (condition(node, "Ready") or {}).get("status")
        return ready != "True" and any(t.get("key") == OUT_OF_SERVICE for t in spec_of(node).get("taints") or [])

    async def _gc_terminated(self, pods: list[Obj]) -> None:
        if self.threshold <= 0:
            return
        done = [p for p in pods if is_terminal(p) and not meta.is_deleting(p)]
        excess = len(done) - self.threshold
        if excess <= 0:
            return
        done.sort(key=lambda p: meta.metadata(p).get("creationTimestamp") or "")
        log.info("garbage collecting %d terminated pods", excess)
        for pod in done[:excess]:
            await self._force_delete(pod, "over the terminated pod threshold")

    async def _gc_orphaned(self, pods: list[Obj]) -> None:
        now = self.clock()
        bound = {str(spec_of(p).get("nodeName") or "") for p in pods} - {""}
        missing = {n for n in bound if self.nodes.store.get(n) is None}
        for name in set(self.missing_since) - missing:
            del self.missing_since[name]
        gone: set[str] = set()
        for name in missing:
            first = self.missing_since.setdefault(name, now)
            if now - first < self.quarantine:
                continue
            try:
                await self.client.get(catalog.NODES, name)
            except errors.NotFound:
                gone.add(name)
            else:
                del self.missing_since[name]  # the cache was behind
        for pod in pods:
            if spec_of(pod).get("nodeName") in gone:
                await self._mark_orphaned(pod)
                await self._force_delete(pod, f"its node {spec_of(pod)['nodeName']} no longer exists")

    async def _mark_orphaned(self, pod: Obj) -> None:
        if is_terminal(pod) or condition(pod, "DisruptionTarget") is not None:
            return
        conditions = [*(status_of(pod).get("conditions") or []), {**ORPHANED, "lastTransitionTime": meta.now()}]
        try:
            await self.client.patch(catalog.PODS, meta.name(pod), {"status": {"phase": "Failed",
                                                                              "conditions": conditions}},
                                    meta.namespace(pod), subresource="status")
        except errors.NotFound:
            return

    async def _force_delete(self, pod: Obj, why: str) -> None:
        try:
            await self.client.delete(catalog.PODS, meta.name(pod), meta.namespace(pod), grace_period_seconds=0,
                                     preconditions={"uid": meta.uid(pod)})
        except (errors.NotFound, errors.Conflict):
            return
        log.info("force-deleted pod %s: %s", meta.key(pod), why)
