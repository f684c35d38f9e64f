"""The node lifecycle controller (`nodelifecycle`): health monitoring (node_health.py), the
rate-limited NoExecute taints (noexecute_taints.py) and, below, TaintNodesByCondition (upstream's
`doNoScheduleTaintingPass`): a Node's conditions and `spec.unschedulable` become NoSchedule
taints, so the scheduler and `kubectl describe node` say why nothing lands there.

Ready False -> `node.kubernetes.io/not-ready`, Ready Unknown -> `.../unreachable`, Memory-,
Disk-, PIDPressure True -> `.../memory-pressure` etc., NetworkUnavailable True ->
`.../network-unavailable`, `kubectl cordon` -> `.../unschedulable`. Only these keys with effect
NoSchedule are the controller's: every other taint is left as it is.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import EventRecorder
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.node_health import NodeHealthMonitor, NodeLifecycleSettings
from lab.kube.controllers.noexecute_taints import NoExecuteTainter
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.taints import NO_SCHEDULE, NOT_READY, PREFIX, UNREACHABLE, UNSCHEDULABLE

log = logging.getLogger(__name__)
# (condition type, status) -> taint key, as upstream's nodeConditionToTaintKeyStatusMap
CONDITION_TAINTS = {("Ready", "False"): NOT_READY, ("Ready", "Unknown"): UNREACHABLE,
                    ("MemoryPressure", "True"): PREFIX + "memory-pressure",
                    ("DiskPressure", "True"): PREFIX + "disk-pressure",
                    ("NetworkUnavailable", "True"): PREFIX + "network-unavailable",
                    ("PIDPressure", "True"): PREFIX + "pid-pressure"}
MANAGED = frozenset([*CONDITION_TAINTS.values(), UNSCHEDULABLE])


def wanted_keys(node: Obj) -> set[str]:
    keys = {key for c in status_of(node).get("conditions") or []
            if (key := CONDITION_TAINTS.get((c.get("type", ""), c.get("status", "")))) is not None}
    if spec_of(node).get("unschedulable"):
        keys.add(UNSCHEDULABLE)
    return keys


def taints_for(node: Obj, now: str) -> list[Obj] | None:
    """The node's taints with the managed NoSchedule ones as its state asks; None when unchanged."""
    taints = list(spec_of(node).get("taints") or [])
    ours = {t.get("key") for t in taints if t.get("effect") == NO_SCHEDULE and t.get("key") in MANAGED}
    want = wanted_keys(node)
    if ours == want:
        return None
    kept = [t for t in taints if not (t.get("effect") == NO_SCHEDULE and t.get("key") in MANAGED - want)]
    return kept + [{"key": k, "effect": NO_SCHEDULE, "timeAdded": now} for k in sorted(want - ours)]


class NodeTaintController:
    name = "nodelifecycle"  # upstream's node lifecycle controller; its NoSchedule tainting pass

    def __init__(self, client: Client, informers: SharedInformers,
                 settings: NodeLifecycleSettings | None = None) -> None:
        settings = settings or NodeLifecycleSettings()
        self.client = client
        self.nodes = informers.get(catalog.NODES)
        self.queue = WorkQueue(self.name)
        self.tainter = NoExecuteTainter(client, settings.rates)
        self.health = NodeHealthMonitor(client, self.nodes, informers.get(catalog.LEASES), informers.get(catalog.PODS),
                                        EventRecorder(client, "node-controller"), settings, self.tainter)

        def on_node(node: Obj) -> None:
            if taints_for(node, "") is not None:
                self.queue.add(meta.name(node))

        self.nodes.add_handler(on_node, lambda old, new: on_node(new))

    async def run(self, workers: int = 5) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.health.run(), name="node-health")
            group.create_task(self.tainter.run(self.nodes.store.get), name="node-noexecute-taints")
            group.create_task(run_controller(self.queue, self.sync, workers), name="node-taints")

    async def sync(self, name: str) -> None:
        cached = self.nodes.store.get(name)
        if cached is None:
            return
        taints = taints_for(cached, meta.now())
        if taints is None:
            return
        node = copy.deepcopy(cached)
        node.setdefault("spec", {})["taints"] = taints
        if not taints:
            node["spec"].pop("taints")
        try:  # compare-and-swap on the cached resourceVersion: a Conflict retries with the newer node
            await self.client.update(catalog.NODES, node)
        except errors.NotFound:
            return
        log.info("node %s: NoSchedule taints now %s", name,
                 sorted(t["key"] for t in taints if t.get("key") in MANAGED) or "none")
