"""Node health monitoring (upstream node lifecycle controller's `monitorNodeHealth`): a node whose
kubelet went quiet turns Unknown, and its pods stop counting as ready.

Every `--node-monitor-period` the monitor looks at each Node's last sign of life, the newest of
its Ready condition's heartbeat and its Lease's renewTime in kube-node-lease, as this process
saw them change. Past `--node-monitor-grace-period` (`--node-startup-grace-period` for a node
that never reported) Ready and the pressure conditions become Unknown with upstream's reasons,
a `NodeNotReady` Event is recorded and the node's pods get Ready=False, so Endpoints drop them.
The NoSchedule `unreachable` taint follows from the condition (node_taints.py), the NoExecute
taints from each node's Ready status at every look (noexecute_taints.py).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lab.kube.client import Client, Informer
from lab.kube.client.events import EventRecorder
from lab.kube.controllers.noexecute_taints import EXCLUDE_LABEL, EvictionRates, NoExecuteTainter, zone_key
from lab.kube.controllers.podutil import condition
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
LEASE_NAMESPACE = "kube-node-lease"
MONITORED = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
STOPPED = ("NodeStatusUnknown", "Kubelet stopped posting node status.")
NEVER = ("NodeStatusNeverUpdated", "Kubelet never posted node status.")


@dataclass
class Probe:
    """What this process last saw of a node, and when (its own clock, as upstream's probeTimestamp)."""

    heartbeat: str
    renew: str
    seen_at: float


def ready_condition(node: Obj) -> Obj | None:
    return condition(node, "Ready")


def unknown_conditions(node: Obj, now: str) -> list[Obj] | None:
    """The node's conditions with the monitored ones Unknown; None when they already are."""
    conditions = copy.deepcopy(status_of(node).get("conditions") or [])
    reason, message = STOPPED if ready_condition(node) is not None else NEVER
    changed = False
    by_type = {c.get("type"): c for c in conditions}
    for kind in MONITORED:
        c = by_type.get(kind)
        if c is None:
            conditions.append({"type": kind, "status": "Unknown", "reason": reason, "message": message,
                               "lastHeartbeatTime": now, "lastTransitionTime": now})
            changed = True
        elif c.get("status") != "Unknown":
            c.update(status="Unknown", reason=reason, message=message, lastTransitionTime=now)
            changed = True
    return conditions if changed else None


@dataclass(frozen=True)
class NodeLifecycleSettings:
    """The KCM's node lifecycle flags, upstream's defaults."""

    monitor_period: float = 5.0  # --node-monitor-period
    grace: float = 40.0  # --node-monitor-grace-period
    startup_grace: float = 60.0  # --node-startup-grace-period
    rates: EvictionRates = field(default_factory=EvictionRates)


class NodeHealthMonitor:
    def __init__(self, client: Client, nodes: Informer, leases: Informer, pods: Informer, recorder: EventRecorder,
                 settings: NodeLifecycleSettings, tainter: NoExecuteTainter | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.nodes, self.leases, self.pods, self.recorder = client, nodes, leases, pods, recorder
        self.period, self.grace, self.startup_grace = settings.monitor_period, settings.grace, settings.startup_grace
        self.clock = clock
        self.tainter = tainter  # the NoExecute taints follow each node's Ready status
        self.probes: dict[str, Probe] = {}
        # A renewal is seen when it arrives, not at the next pass: the node then goes Unknown
        # within one monitor period after its grace, never two.
        def on_node(node: Obj) -> None:
            self._probe(node)

        def on_lease(lease: Obj) -> None:
            if meta.namespace(lease) == LEASE_NAMESPACE and (node := nodes.store.get(meta.name(lease))) is not None:
                self._probe(node)
        nodes.add_handler(on_node, lambda _old, new: on_node(new))
        leases.add_handler(on_lease, lambda _old, new: on_lease(new))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.monitor()
            except (errors.APIError, OSError, TimeoutError) as exc:  # the next period tries again
                log.warning("node health monitoring: %s", exc)

    def _probe(self, node: Obj) -> Probe:
        """Refresh what we saw: a new heartbeat or lease renewal moves the probe time to now."""
        name = meta.name(node)
        heartbeat = str((ready_condition(node) or {}).get("lastHeartbeatTime") or "")
        lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{name}")
        renew = str(spec_of(lease or {}).get("renewTime") or "")
        old = self.probes.get(name)
        if old is None or old.heartbeat != heartbeat or old.renew != renew:
            old = self.probes[name] = Probe(heartbeat, renew, self.clock())
        return old

    async def monitor(self) -> None:
        live = set()
        zones: dict[str, list[str]] = {}
        nodes = self.nodes.store.list()
        for node in nodes:
            name = meta.name(node)
            live.add(name)
            probe = self._probe(node)
            grace = self.grace if ready_condition(node) is not None else self.startup_grace
            if self.clock() - probe.seen_at > grace:
                node = await self._mark_unknown(node)
            ready = ready_condition(node)
            if EXCLUDE_LABEL not in meta.labels(node):
                zones.setdefault(zone_key(node), []).append(str((ready or {}).get("status") or ""))
            if ready is not None and self.tainter is not None:
                await self.tainter.observe(node, str(ready.get("status") or ""))
        for gone in set(self.probes) - live:
            del self.probes[gone]
        if self.tainter is not None and await self.tainter.handle_disruption(zones, nodes):
            for probe in self.probes.values():  # out of full disruption: every node's grace starts again
                probe.seen_at = self.clock()

    async def _mark_unknown(self, node: Obj) -> Obj:
        """The node with its conditions Unknown, as stored; unchanged when it could not be."""
        was_ready = (ready_condition(node) or {}).get("status") == "True"
        conditions = unknown_conditions(node, meta.now())
        if conditions is None:
            return node
        updated = {**node, "status": {**status_of(node), "conditions": conditions}}
        try:
            stored = await self.client.update(catalog.NODES, updated, subresource="status")
        except (errors.NotFound, errors.Conflict):  # gone, or the kubelet came back meanwhile
            return node
        log.info("node %s: %s", meta.name(node), STOPPED[1])
        if was_ready:
            self.recorder.event(node, "Normal", "NodeNotReady", f"Node {meta.name(node)} status is now: NodeNotReady")
            await self._mark_pods_not_ready(meta.name(node))
        return stored

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        """Upstream MarkPodsNotReady: each pod on the node loses Ready (Endpoints follow)."""
        for pod in self.pods.store.list():
            if spec_of(pod).get("nodeName") != node_name:
                continue
            conditions = copy.deepcopy(status_of(pod).get("conditions") or [])
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready is None or ready.get("status") == "False":
                continue
            ready.update(status="False", lastTransitionTime=meta.now())
            self.recorder.event(pod, "Warning", "NodeNotReady", "Node is not ready")
            try:
                await self.client.patch(catalog.PODS, meta.name(pod), {"status": {"conditions": conditions}},
                                        meta.namespace(pod), subresource="status")
            except errors.NotFound:
                continue
