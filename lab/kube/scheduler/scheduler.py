"""The Scheduler: informer handlers feed the queue and the cache; one loop schedules pods.

Scheduling cycles run one at a time (no awaits between filter and assume, so the cache is
consistent); binding runs in its own task so a slow API call never blocks the next pod.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import aiohttp

from lab.kube.client import Client
from lab.kube.client.events import EventRecorder
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.scheduler.algorithm import Algorithm, FitError
from lab.kube.scheduler.cache import SchedulerCache, is_terminal, node_name_of
from lab.kube.scheduler.config import SchedulerConfig
from lab.kube.scheduler.framework import CycleState, QueuedPodInfo, error
from lab.kube.scheduler.profile import Framework
from lab.kube.scheduler.queue import SchedulingQueue

log = logging.getLogger(__name__)
CACHE_CLEANUP_PERIOD = 1.0


def _node_changed(old: Obj, new: Obj) -> bool:
    """Only changes that can make a pod fit re-activate unschedulable pods (upstream nodeSchedulingPropertiesChange)."""
    return any(old.get(p) != new.get(p) for p in ("spec",)) or \
        meta.labels(old) != meta.labels(new) or \
        status_of(old).get("allocatable") != status_of(new).get("allocatable") or \
        status_of(old).get("conditions") != status_of(new).get("conditions")


def scheduled_condition(pod: Obj, reason: str, message: str) -> list[Obj] | None:
    """The pod's conditions with PodScheduled=False set, or None when nothing would change."""
    conditions = copy.deepcopy(status_of(pod).get("conditions") or [])
    for cond in conditions:
        if cond.get("type") == "PodScheduled":
            if cond.get("status") == "False" and cond.get("reason") == reason and cond.get("message") == message:
                return None
            if cond.get("status") != "False":
                cond["lastTransitionTime"] = meta.now()
            cond.update(status="False", reason=reason, message=message, lastProbeTime=None)
            return conditions
    conditions.append({"type": "PodScheduled", "status": "False", "reason": reason, "message": message,
                       "lastProbeTime": None, "lastTransitionTime": meta.now()})
    return conditions


class Scheduler:
    def __init__(self, client: Client, cfg: SchedulerConfig, recorder: EventRecorder | None = None) -> None:
        self.client = client
        self.frameworks = {p.scheduler_name: Framework(p, self) for p in cfg.profiles}
        first = next(iter(self.frameworks.values()))
        self.queue = SchedulingQueue(first.less)
        self.cache = SchedulerCache()
        self.algorithm = Algorithm(cfg.percentage_of_nodes_to_score)
        self.recorder = recorder or EventRecorder(client, "default-scheduler")
        self._binding: set[asyncio.Task[None]] = set()

    # --- informer handlers: cheap, synchronous, never call the API ------------------------
    def responsible_for(self, pod: Obj) -> bool:
        return (spec_of(pod).get("schedulerName") or "default-scheduler") in self.frameworks

    def _wants_scheduling(self, pod: Obj) -> bool:
        return not node_name_of(pod) and not is_terminal(pod) and not meta.is_deleting(pod) \
            and self.responsible_for(pod)

    def on_pod_add(self, pod: Obj) -> None:
        if node_name_of(pod):
            self.cache.add_pod(pod)
        elif self._wants_scheduling(pod):
            self.queue.add(pod)

    def on_pod_update(self, old: Obj, new: Obj) -> None:
        if node_name_of(new):
            if not node_name_of(old):
                self.queue.delete(old)  # bound (by us or someone else): no longer pending
            self.cache.update_pod(new)
            if is_terminal(new) and not is_terminal(old):
                self.queue.move_all_to_active_or_backoff("AssignedPodTerminated")
        elif self._wants_scheduling(new):
            if not self.cache.is_assumed(new):
                self.queue.update(new)
        else:
            self.queue.delete(new)

    def on_pod_delete(self, pod: Obj) -> None:
        if node_name_of(pod):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")
        else:
            self.queue.delete(pod)
            self.cache.forget(pod)

    def on_node_add(self, node: Obj) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd")

    def on_node_update(self, old: Obj, new: Obj) -> None:
        self.cache.update_node(new)
        if _node_changed(old, new):
            self.queue.move_all_to_active_or_backoff("NodeUpdate")

    def on_node_delete(self, node: Obj) -> None:
        self.cache.remove_node(node)

    def attach(self, pod_informer: Any, node_informer: Any) -> None:
        self.pods = pod_informer
        pod_informer.add_handler(self.on_pod_add, self.on_pod_update, self.on_pod_delete)
        node_informer.add_handler(self.on_node_add, self.on_node_update, self.on_node_delete)

    # --- the loop -------------------------------------------------------------------------
    async def run(self) -> None:
        """Schedule pods until cancelled; helper and binding tasks are owned and cancelled here."""
        helpers = [asyncio.create_task(self.queue.run_flush()), asyncio.create_task(self._cleanup_loop())]
        try:
            while (info := await self.queue.pop()) is not None:
                self.schedule_one(info)
        finally:
            self.queue.close()
            pending = helpers + list(self._binding)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self.recorder.close()

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(CACHE_CLEANUP_PERIOD)
            self.cache.cleanup_expired()

    def _current(self, info: QueuedPodInfo) -> Obj | None:
        """The freshest version of the pod, None if it no longer needs scheduling."""
        pods = getattr(self, "pods", None)
        pod = pods.store.get(info.key) if pods is not None else info.pod
        if pod is None or meta.uid(pod) != meta.uid(info.pod) or not self._wants_scheduling(pod):
            return None
        return pod

    def schedule_one(self, info: QueuedPodInfo) -> None:
        """The scheduling cycle (synchronous); the binding cycle is started as a task."""
        pod = self._current(info)
        if pod is None:
            return
        info.pod = pod
        cycle = self.queue.scheduling_cycle
        fwk = self.frameworks[spec_of(pod).get("schedulerName") or "default-scheduler"]
        state = CycleState()
        try:
            node_name = self.algorithm.schedule(fwk, state, pod, self.cache.node_infos())
        except FitError as fit:
            log.info("Unable to schedule pod; no fit; waiting pod=%s err=%r", info.key, str(fit))
            self._failed(info, cycle, "Unschedulable", str(fit), unschedulable=True)
            return
        except Exception as exc:
            log.exception("Error scheduling pod %s", info.key)
            self._failed(info, cycle, "SchedulerError", str(exc), unschedulable=False)
            return
        assumed = copy.deepcopy(pod)
        assumed.setdefault("spec", {})["nodeName"] = node_name
        self.cache.assume(assumed)
        status = fwk.run_reserve(state, assumed, node_name)
        if not status.is_success:
            fwk.run_unreserve(state, assumed, node_name)
            self.cache.forget(assumed)
            self._failed(info, cycle, "Unschedulable" if status.is_rejected else "SchedulerError",
                         status.message(), unschedulable=status.is_rejected)
            return
        task = asyncio.create_task(self._bind(fwk, state, info, assumed, node_name, cycle))
        self._binding.add(task)
        task.add_done_callback(self._binding.discard)

    async def _bind(self, fwk: Framework, state: CycleState, info: QueuedPodInfo, assumed: Obj,
                    node_name: str, cycle: int) -> None:
        try:
            status = await fwk.run_bind(state, assumed, node_name)
        except (OSError, aiohttp.ClientError, TimeoutError) as exc:  # treat like a rejected binding: retry later
            status = error(f"binding failed: {exc!r}")
        message = status.message()
        if status.is_success:
            self.cache.finish_binding(assumed)
            log.info("Successfully bound pod to node pod=%s node=%s", info.key, node_name)
            self.recorder.event(assumed, "Normal", "Scheduled",
                                f"Successfully assigned {info.key} to {node_name}")
            return
        fwk.run_unreserve(state, assumed, node_name)
        self.cache.forget(assumed)
        self.queue.move_all_to_active_or_backoff("BindFailure")  # the assumed resources are free again
        self._failed(info, cycle, "SchedulerError", message, unschedulable=False)

    def _failed(self, info: QueuedPodInfo, cycle: int, reason: str, message: str, unschedulable: bool) -> None:
        """Requeue, tell the user (Event FailedScheduling) and set PodScheduled=False."""
        if unschedulable:
            self.queue.add_unschedulable(info, cycle)
        else:
            self.queue.add_backoff(info)
        self.recorder.event(info.pod, "Warning", "FailedScheduling", message)
        conditions = scheduled_condition(info.pod, reason, message)
        if conditions is not None:
            task = asyncio.create_task(self._patch_condition(info.pod, conditions))
            self._binding.add(task)
            task.add_done_callback(self._binding.discard)

    async def _patch_condition(self, pod: Obj, conditions: list[Obj]) -> None:
        try:
            await self.client.patch(catalog.PODS, meta.name(pod), {"status": {"conditions": conditions}},
                                    meta.namespace(pod), subresource="status")
        except errors.NotFound:
            pass  # deleted meanwhile: nothing to report on
        except (errors.APIError, OSError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not update PodScheduled condition of %s: %r", meta.key(pod), exc)
