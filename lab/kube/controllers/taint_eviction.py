"""The taint-eviction controller (upstream `pkg/controller/tainteviction`, `--controllers` name
`taint-eviction-controller`): pods on a node with NoExecute taints they do not tolerate are
deleted; a toleration with `tolerationSeconds` delays the deletion that long, one without keeps
the pod for good. Taints taken off in time cancel the scheduled deletions.

Each deletion first writes the pod's `DisruptionTarget` condition (reason DeletionByTaintManager)
and is announced by a `TaintManagerEviction` Event, as upstream's. Deletions are timers on the
work queue (`add_after`), so a rescheduled or cancelled one simply finds itself stale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import EventRecorder
from lab.kube.controllers.informers import NODE_NAME_INDEX, SharedInformers
from lab.kube.controllers.podutil import condition
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.taints import matching_tolerations, no_execute

log = logging.getLogger(__name__)
DISRUPTION_TARGET = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                     "message": "Taint manager: deleting due to NoExecute taint"}


@dataclass(frozen=True)
class Eviction:
    created_at: float
    fire_at: float


def min_toleration_seconds(used: list[Obj]) -> float | None:
    """Upstream `getMinTolerationTime`: 0 with none used or one ≤ 0 s, None when all are forever."""
    if not used:
        return 0.0
    seconds = [t["tolerationSeconds"] for t in used if isinstance(t.get("tolerationSeconds"), int)]
    if not seconds:
        return None
    return float(max(0, min(seconds)))


def _pod_ref(key: str) -> Obj:
    namespace, _, name = key.partition("/")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}


class TaintEvictionController:
    name = "taint-eviction-controller"

    def __init__(self, client: Client, informers: SharedInformers, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.clock = client, clock
        self.pods = informers.get(catalog.PODS)
        self.nodes = informers.get(catalog.NODES)
        self.queue = WorkQueue(self.name)
        self.recorder = EventRecorder(client, self.name)
        self.tainted: dict[str, list[Obj]] = {}  # node -> its NoExecute taints, as last synced
        self.scheduled: dict[str, Eviction] = {}  # pod key -> its pending deletion

        def on_pod(old: Obj | None, new: Obj | None) -> None:
            if old is not None and new is not None and spec_of(old).get("tolerations") == spec_of(
                    new).get("tolerations") and spec_of(old).get("nodeName") == spec_of(new).get("nodeName"):
                return
            pod = new if new is not None else old
            assert pod is not None
            self.queue.add(("pod", meta.key(pod), str(spec_of(pod).get("nodeName") or "")))

        def on_node(old: Obj | None, new: Obj | None) -> None:
            if old is not None and new is not None and no_execute(spec_of(old).get("taints") or []) == no_execute(
                    spec_of(new).get("taints") or []):
                return
            node = new if new is not None else old
            assert node is not None
            self.queue.add(("node", meta.name(node)))

        self.pods.add_handler(lambda p: on_pod(None, p), on_pod, lambda p: on_pod(p, None))
        self.nodes.add_handler(lambda n: on_node(None, n), on_node, lambda n: on_node(n, None))

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, item: Hashable) -> None:
        assert isinstance(item, tuple)
        match item:
            case ("node", name):
                self._sync_node(name)
            case ("pod", key, node_name):
                self._sync_pod(key, node_name)
            case ("fire", key):
                await self._fire(key)

    def _sync_node(self, name: str) -> None:
        node = self.nodes.store.get(name)
        taints = no_execute(spec_of(node).get("taints") or []) if node is not None else []
        if taints:
            self.tainted[name] = taints
        else:
            self.tainted.pop(name, None)
        now = self.clock()
        for pod in self.pods.store.by_index(NODE_NAME_INDEX, name):
            self._process(meta.key(pod), spec_of(pod).get("tolerations") or [], taints, now)

    def _sync_pod(self, key: str, node_name: str) -> None:
        pod = self.pods.store.get(key)
        if pod is None:
            self._cancel(key)
            return
        if spec_of(pod).get("nodeName") != node_name or not node_name:
            return  # a newer event for this pod is queued under its current node
        taints = self.tainted.get(node_name)
        if taints is not None:
            self._process(key, spec_of(pod).get("tolerations") or [], taints, self.clock())

    def _process(self, key: str, tolerations: list[Obj], taints: list[Obj], now: float) -> None:
        """Upstream `processPodOnNode`: delete now, later, or never (and cancel what is pending)."""
        if not taints:
            self._cancel(key)
            return
        used = matching_tolerations(taints, tolerations)
        if used is None:
            log.info("pod %s does not tolerate the NoExecute taints of its node: deleting it", key)
            self._schedule(key, Eviction(now, now))
            return
        seconds = min_toleration_seconds(used)
        if seconds is None:
            self._cancel(key)
            return
        pending = self.scheduled.get(key)
        start = pending.created_at if pending is not None else now
        if pending is not None and pending.fire_at <= start + seconds:
            return  # already due no later than the tolerations now allow
        self._schedule(key, Eviction(start, start + seconds))

    def _schedule(self, key: str, eviction: Eviction) -> None:
        self.scheduled[key] = eviction
        self.queue.add_after(("fire", key), max(0.0, eviction.fire_at - self.clock()))

    def _cancel(self, key: str) -> None:
        if self.scheduled.pop(key, None) is not None:
            self.recorder.event(_pod_ref(key), "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {key}")

    async def _fire(self, key: str) -> None:
        eviction = self.scheduled.get(key)
        if eviction is None:
            return  # cancelled
        wait = eviction.fire_at - self.clock()
        if wait > 0:  # rescheduled later than this timer
            self.queue.add_after(("fire", key), wait)
            return
        self.recorder.event(_pod_ref(key), "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}")
        await self._delete(key)
        if self.scheduled.get(key) is eviction:
            del self.scheduled[key]

    async def _delete(self, key: str) -> None:
        """Upstream `addConditionAndDeletePod`; an error retries through the queue."""
        namespace, _, name = key.partition("/")
        try:
            pod = await self.client.get(catalog.PODS, name, namespace)
            if condition(pod, "DisruptionTarget") is None:
                conditions = [*(status_of(pod).get("conditions") or []),
                              {**DISRUPTION_TARGET, "lastTransitionTime": meta.now()}]
                await self.client.patch(catalog.PODS, name, {"status": {"conditions": conditions}}, namespace,
                                        subresource="status")
            await self.client.delete(catalog.PODS, name, namespace, preconditions={"uid": meta.uid(pod)})
        except (errors.NotFound, errors.Conflict):  # gone, or replaced by a new pod of that name
            return
        log.info("deleted pod %s for the NoExecute taints of its node", key)
