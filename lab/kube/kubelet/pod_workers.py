"""PodWorkers: the kubelet's pod reconcile loop, keyed by `namespace/name`.

An Informer on pods bound to this node (fieldSelector spec.nodeName=<node>) and a relist tick
(like upstream's PLEG) put keys on a WorkQueue; `sync(key)` runs the pod through PodSyncer,
PATCHes pods/<name>/status when it changed, finishes deletions and removes orphaned sandboxes.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable

from lab.kube.client import Client, Informer, WorkQueue, run_controller
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet import node_shutdown, podconfig
from lab.kube.kubelet.cri.runtime import CRIError
from lab.kube.kubelet.metrics import KubeletMetrics
from lab.kube.kubelet.pod_status import TERMINAL, pod_status
from lab.kube.kubelet.pod_sync import PodSyncer, grace_period
from lab.kube.kubelet.prober import ProbeManager
from lab.kube.kubelet.runtime_state import PodRuntime, read_pod
from lab.kube.kubelet.static_pods import MirrorPods, StaticPodSource, is_mirror
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
EVICTION_GRACE = 1  # upstream immediateEvictionGracePeriodSeconds: hard thresholds do not wait
# upstream runs one goroutine per pod; most of a sync waits on the runtime (sandbox, CNI), so
# many pods starting at once need many workers (the queue still syncs each pod on one at a time)
WORKERS = 32
RELIST_PERIOD = 2.0  # upstream PLEG relists every 1 s; status lag of 2 s is fine for a lab


def deadline_left(pod: Obj, now: float) -> float | None:
    """Seconds until the pod's activeDeadlineSeconds (counted from status.startTime) run out, if it has one."""
    deadline = spec_of(pod).get("activeDeadlineSeconds")
    started = status_of(pod).get("startTime")
    if not isinstance(deadline, int) or not started:
        return None
    return deadline - (now - meta.parse_time(started).timestamp())


def with_condition(conditions: list[Obj], condition: Obj) -> list[Obj]:
    return [c for c in conditions if c.get("type") != condition["type"]] + [condition]


def disruption_target(message: str) -> Obj:
    """The condition a pod the kubelet itself ends (eviction, node shutdown) carries."""
    return {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet", "message": message,
            "lastTransitionTime": meta.now()}


class PodWorkers:
    def __init__(self, client: Client, syncer: PodSyncer, node_name: str, runtime_name: str = "containerd",
                 network_ready: Callable[[], bool] = lambda: True, workers: int = WORKERS,
                 relist_period: float = RELIST_PERIOD, static_pod_path: str = "",
                 node_uid: Callable[[], str] = lambda: "", file_check_frequency: float = 20.0,
                 shutting_down: Callable[[], bool] = lambda: False, metrics: KubeletMetrics | None = None) -> None:
        """`static_pod_path` is the directory of static pod manifests; `node_uid` the registered
        Node's uid (its mirror pods' owner); `shutting_down` the node shutdown manager's state
        (no new pod is admitted then)."""
        self.client, self.syncer, self.node_name = client, syncer, node_name
        self.runtime_name, self.network_ready = runtime_name, network_ready
        self.workers, self.relist_period = workers, relist_period
        self.informer = Informer(client, catalog.PODS, field_selector=f"spec.nodeName={node_name}")
        self.queue = WorkQueue("kubelet-pods")
        self.probes = ProbeManager(syncer.runtime, self.queue.add, syncer.events)
        self._ended: set[str] = set()  # uids this kubelet failed itself (eviction, active deadline)
        self._admitted: set[str] = set()  # uids synced before: a shutting-down node refuses only new pods
        self.shutting_down = shutting_down
        self.metrics = metrics or KubeletMetrics()
        self._first_seen: dict[str, float] = {}  # uid -> when a new pod was first seen, for the start SLI
        self.static = (StaticPodSource(static_pod_path, node_name, self.queue.add, file_check_frequency)
                       if static_pod_path else None)
        self.mirrors = MirrorPods(client, node_name, node_uid) if static_pod_path else None
        enqueue = self._enqueue
        self.informer.add_handler(on_add=self._added, on_update=lambda old, new: enqueue(new), on_delete=enqueue)

    def _static_pods(self) -> list[Obj]:
        return list(self.static.pods.values()) if self.static is not None else []

    def _enqueue(self, pod: Obj) -> None:
        self.queue.add(meta.key(pod))

    def _added(self, pod: Obj) -> None:
        if status_of(pod).get("phase", "Pending") == "Pending" and not status_of(pod).get("containerStatuses"):
            self._first_seen.setdefault(meta.uid(pod), time.monotonic())
        self._enqueue(pod)

    async def run(self) -> None:
        """Run until cancelled: informer first, then (once synced) the relist tick and the workers."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.informer.run(), name="pod-informer")
            await self.informer.wait_synced()
            if self.static is not None:
                group.create_task(self.static.run(), name="static-pods")
            group.create_task(self._relist_loop(), name="pod-relist")
            try:
                await run_controller(self.queue, self.sync, workers=self.workers)
            finally:
                self.queue.shutdown()

    async def _relist_loop(self) -> None:
        while True:
            await self.relist()
            await asyncio.sleep(self.relist_period)

    async def relist(self) -> None:
        """Queue every known pod and every pod the runtime still runs (orphans included)."""
        static_pods = self._static_pods()
        keys = set(self.informer.store.keys()) | {meta.key(p) for p in static_pods}
        try:
            sandboxes = await self.syncer.runtime.list_pod_sandbox()
        except CRIError as exc:  # the runtime being down must not stop the loop; the sync will report it
            log.warning("relist: listing sandboxes failed: %s", exc)
            sandboxes = None
        keys.update(k for s in sandboxes or [] if (k := lbl.pod_key(s.labels)))
        for key in keys:
            self.queue.add(key)
        self._admitted &= {meta.uid(p) for p in self.informer.store} | {meta.uid(p) for p in static_pods}
        if sandboxes is not None and self.syncer.volumes is not None:
            # only with the runtime's full answer: a pod still running keeps its files
            running = {s.labels.get(lbl.POD_UID, "") for s in sandboxes}
            await self.syncer.volumes.cleanup_orphans(
                lambda: running | {meta.uid(p) for p in [*self.informer.store, *static_pods]})

    async def sync(self, key: str) -> None:
        started = time.monotonic()
        cached = self.informer.store.get(key)
        first = cached is not None and meta.uid(cached) not in self._admitted
        try:
            await self._sync(key)
        finally:
            self.metrics.pod_worker.observe(time.monotonic() - started, "create" if first else "sync")

    async def _sync(self, key: str) -> None:
        namespace, name = meta.split_key(key)
        cached = self.informer.store.get(key)
        static = self.static.pods.get(key) if self.static is not None else None
        if static is not None:  # the file is the truth; the API holds its mirror
            await self._remove_orphans(namespace, name, meta.uid(static))
            mirror = await self.mirrors.ensure(static, cached) if self.mirrors is not None else None
            pod = copy.deepcopy(static)
            if mirror is not None:
                pod["status"] = copy.deepcopy(mirror.get("status") or pod["status"])
        else:
            if cached is not None and is_mirror(cached):  # its static pod is gone
                await self._remove_orphans(namespace, name, "")
                if self.mirrors is not None:
                    await self.mirrors.delete(cached)
                return
            await self._remove_orphans(namespace, name, meta.uid(cached) if cached else "")
            if cached is None:
                return
            pod = copy.deepcopy(cached)
            mirror = cached
        if meta.is_deleting(pod):
            await self._finish_deletion(pod)
            return
        if meta.uid(pod) in self._ended:
            return  # evicted or past its deadline: finished here, whatever the cache says yet
        if meta.uid(pod) not in self._admitted and status_of(pod).get("phase") not in TERMINAL:
            if self.shutting_down():
                await self._reject(pod, node_shutdown.NOT_ADMITTED_REASON, node_shutdown.NOT_ADMITTED_MESSAGE)
                return
            self._admitted.add(meta.uid(pod))
        if not self.network_ready() and not podconfig.host_network(pod):
            log.info("Pod %s waits: container runtime network not ready", key)
            self.queue.add_after(key, 2.0)
            return
        left = deadline_left(pod, time.time())
        if left is not None and left <= 0 and status_of(pod).get("phase") not in TERMINAL:
            await self._deadline_exceeded(pod)
            return
        if left is not None:
            self.queue.add_after(key, left)
        await self._restart_unhealthy(pod)
        result = await self.syncer.sync(pod, self.probes)
        sandbox = result.runtime.sandbox
        pod_ip = self.syncer.node.node_ip if podconfig.host_network(pod) else (sandbox.ip if sandbox else "")
        self.probes.update(pod, result.runtime, pod_ip)
        status = pod_status(pod, result.runtime, result.waiting, self.syncer.node.node_ip, self.runtime_name,
                            podconfig.host_network(pod), self.probes)
        if mirror is not None:  # a static pod without its mirror yet keeps its status to itself
            await self._write_status(pod, status)
        if status["phase"] == "Running" and (seen := self._first_seen.pop(meta.uid(pod), None)) is not None:
            self.metrics.pod_start.observe(time.monotonic() - seen)
        if status["phase"] in TERMINAL:
            await self.syncer.stop_sandboxes(result.runtime)
        if result.requeue_after is not None:
            self.queue.add_after(key, result.requeue_after)

    async def _deadline_exceeded(self, pod: Obj) -> None:
        """Upstream's active deadline handler: the pod fails with DeadlineExceeded, its containers stop."""
        log.info("Pod %s: %s", meta.key(pod), DEADLINE_MESSAGE)
        self.syncer.events.deadline_exceeded(pod, DEADLINE_MESSAGE)
        await self._end(pod, "DeadlineExceeded", DEADLINE_MESSAGE, grace_period(pod))

    async def evict(self, pod: Obj, message: str) -> None:
        """The eviction manager's verdict: stop the pod at once and fail it as Evicted."""
        self.syncer.events.evicted(pod, message)
        await self._end(pod, "Evicted", message, EVICTION_GRACE, disruption_target(message))

    async def shutdown_pod(self, pod: Obj, grace: int) -> None:
        """The node shutdown manager's verdict: stop the pod within `grace` and fail it as Terminated."""
        await self._end(pod, node_shutdown.REASON, node_shutdown.MESSAGE, grace,
                        disruption_target(node_shutdown.MESSAGE), keep_succeeded=True)

    def active_pods(self) -> list[Obj]:
        """Upstream GetActivePods: the pods bound here (static ones too) that are not finished."""
        return [p for p in [*self.informer.store.list(), *self._static_pods()]
                if status_of(p).get("phase") not in TERMINAL and meta.uid(p) not in self._ended and not is_mirror(p)]

    async def _reject(self, pod: Obj, reason: str, message: str) -> None:
        """Upstream rejectPod: a pod this kubelet will not run fails at once, nothing started."""
        log.info("Pod %s rejected: %s", meta.key(pod), message)
        self.syncer.events.rejected(pod, reason, message)
        await self._end(pod, reason, message, 0)

    async def _end(self, pod: Obj, reason: str, message: str, grace: int, condition: Obj | None = None,
                   keep_succeeded: bool = False) -> None:
        """Stop the pod's containers (kept, for logs) and make it Failed for good with `reason`
        (a pod that `keep_succeeded` and did succeed stays Succeeded)."""
        uid = meta.uid(pod)
        self._ended.add(uid)  # no sync may start it again while the API catches up
        self.probes.forget(uid)
        if condition is not None:  # upstream sets it at once; the terminal phase waits until nothing runs
            try:
                await self._write_status(pod, {"conditions": with_condition(status_of(pod).get("conditions") or [],
                                                                            condition)})
            except (errors.APIError, OSError, TimeoutError) as exc:  # the containers must stop all the same
                log.warning("Pod %s: writing the %s condition failed: %s", meta.key(pod), condition["type"], exc)
        await self.syncer.stop_all(pod, grace)
        rt = await read_pod(self.syncer.runtime, uid)
        status = pod_status(pod, rt, {}, self.syncer.node.node_ip, self.runtime_name, podconfig.host_network(pod))
        succeeded = keep_succeeded and status.get("phase") == "Succeeded"
        status.update(phase="Succeeded" if succeeded else "Failed", reason=reason, message=message)
        if condition is not None:
            status["conditions"] = with_condition(status["conditions"], condition)
        await self._write_status(pod, status)
        await self.syncer.stop_sandboxes(rt)

    async def _restart_unhealthy(self, pod: Obj) -> None:
        """A container whose liveness (or startup) probe failed is killed; the sync restarts it."""
        uid = meta.uid(pod)
        rt = await read_pod(self.syncer.runtime, uid)
        for c in rt.containers:
            why = self.probes.should_kill(uid, c.name, c.id) if c.running else ""
            if why:
                log.info("Pod %s: %s", meta.key(pod), why)
                self.syncer.events.killing(pod, c.name, why)
                self.probes.update(pod, PodRuntime(), "")  # its probes stop with it
                await self.syncer.stop(pod, c, grace_period(pod), rt.sandbox_ip)

    async def _remove_orphans(self, namespace: str, name: str, live_uid: str) -> None:
        """Sandboxes with this pod's name but another uid (or no pod at all) belong to nobody: remove them."""
        sandboxes = await self.syncer.runtime.list_pod_sandbox({lbl.POD_NAMESPACE: namespace, lbl.POD_NAME: name})
        for uid in {s.labels.get(lbl.POD_UID, "") for s in sandboxes} - {live_uid, ""}:
            log.info("Removing orphaned pod %s/%s (uid %s)", namespace, name, uid)
            await self.syncer.kill(uid, grace=0)

    async def _finish_deletion(self, pod: Obj) -> None:
        """Stop the containers within the grace period, remove the sandbox, then let the API forget the pod."""
        self.probes.forget(meta.uid(pod))
        self._ended.discard(meta.uid(pod))
        self._admitted.discard(meta.uid(pod))
        self._first_seen.pop(meta.uid(pod), None)
        await self.syncer.kill(meta.uid(pod), grace_period(pod), pod)
        try:
            await self.client.delete(catalog.PODS, meta.name(pod), meta.namespace(pod), grace_period_seconds=0,
                                     preconditions={"uid": meta.uid(pod)})
            log.info("Pod %s deleted", meta.key(pod))
        except (errors.NotFound, errors.Conflict):
            pass  # already gone, or replaced by a new pod with the same name: nothing left for us

    async def _write_status(self, pod: Obj, status: Obj) -> None:
        old = status_of(pod)
        if all(old.get(k) == v for k, v in status.items()):
            return
        try:
            await self.client.patch(catalog.PODS, meta.name(pod), {"status": status}, meta.namespace(pod),
                                    subresource="status")
        except errors.NotFound:
            pass  # deleted meanwhile; the informer brings the deletion
