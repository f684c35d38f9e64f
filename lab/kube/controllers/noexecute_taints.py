"""The node lifecycle controller's NoExecute tainting (upstream `processTaintBaseEviction`,
`doNoExecuteTaintingPass` and `handleDisruption`): a node whose Ready condition is False gets the
`node.kubernetes.io/not-ready:NoExecute` taint, Unknown gets `.../unreachable:NoExecute`, Ready
again loses both. The taint-eviction controller then removes the pods that do not tolerate them.

Tainting is rate-limited per zone (`topology.kubernetes.io/region` + `zone` labels), as upstream:
a token bucket of `--node-eviction-rate` nodes per second (burst 1). A zone with more than two
unready nodes and at least `--unhealthy-zone-threshold` of them unready is partially disrupted:
its rate drops to `--secondary-node-eviction-rate` when it has more than
`--large-cluster-size-threshold` nodes, to nothing otherwise. When every zone is fully disrupted
the fault is most likely this side's (the control plane lost its network), so all NoExecute
taints are taken off and nothing is tainted until some node is Ready again.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.kube.client import Client
from lab.kube.controllers.podutil import condition
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.machinery.taints import NO_EXECUTE, NOT_READY, UNREACHABLE

log = logging.getLogger(__name__)
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-disruption"
PASS_PERIOD = 0.1  # upstream nodeEvictionPeriod: how often the queues are tried
SWAP_ATTEMPTS = 5
# Ready status -> (the taint to add, the opposite one to take off)
TAINT_FOR_STATUS = {"False": (NOT_READY, UNREACHABLE), "Unknown": (UNREACHABLE, NOT_READY)}


class ZoneState(enum.Enum):
    INITIAL = "Initial"
    NORMAL = "Normal"
    FULL_DISRUPTION = "FullDisruption"
    PARTIAL_DISRUPTION = "PartialDisruption"


@dataclass(frozen=True)
class EvictionRates:
    """The KCM's eviction flags, upstream's defaults."""

    rate: float = 0.1  # --node-eviction-rate, nodes per second
    secondary_rate: float = 0.01  # --secondary-node-eviction-rate
    unhealthy_zone_threshold: float = 0.55  # --unhealthy-zone-threshold
    large_cluster_size: int = 50  # --large-cluster-size-threshold

    def for_state(self, state: ZoneState, zone_size: int) -> float:
        if state is ZoneState.PARTIAL_DISRUPTION:
            return self.secondary_rate if zone_size > self.large_cluster_size else 0.0
        return self.rate


def zone_key(node: Obj) -> str:
    """Upstream `GetZoneKey`: region and zone, "" for a node with neither."""
    labels = meta.labels(node)
    region, zone = labels.get(REGION_LABEL, ""), labels.get(ZONE_LABEL, "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def zone_state(ready_statuses: list[str], threshold: float) -> ZoneState:
    """Upstream `ComputeZoneState` over the zone's Ready statuses ("" for a node without one)."""
    ready = sum(1 for s in ready_statuses if s == "True")
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return ZoneState.FULL_DISRUPTION
    if not_ready > 2 and not_ready / len(ready_statuses) >= threshold:
        return ZoneState.PARTIAL_DISRUPTION
    return ZoneState.NORMAL


class TokenBucket:
    """client-go's token bucket `TryAccept` (burst 1): `qps` 0 never accepts."""

    def __init__(self, qps: float, clock: Callable[[], float]) -> None:
        self.qps, self.clock = qps, clock
        self.tokens, self.last = 1.0, clock()

    def try_accept(self) -> bool:
        if self.qps <= 0:
            return False
        now = self.clock()
        self.tokens = min(1.0, self.tokens + (now - self.last) * self.qps)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class ZoneQueue:
    """Upstream `RateLimitedTimedQueue` of node names: one token per node tried. A node tainted
    stays remembered (not queued again) until `remove` says it is reachable."""

    def __init__(self, qps: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.limiter = TokenBucket(qps, clock)
        self.waiting: collections.OrderedDict[str, float] = collections.OrderedDict()  # name -> process at
        self.handled: set[str] = set()

    def add(self, name: str) -> bool:
        if name in self.waiting or name in self.handled:
            return False
        self.waiting[name] = self.clock()
        return True

    def remove(self, name: str) -> None:
        self.waiting.pop(name, None)
        self.handled.discard(name)

    def swap_limiter(self, qps: float) -> None:
        if qps != self.limiter.qps:
            self.limiter = TokenBucket(qps, self.clock)

    def due(self) -> str | None:
        """The head, when a token allows and its time has come."""
        if not self.waiting:
            return None
        name, at = next(iter(self.waiting.items()))
        if self.clock() < at or not self.limiter.try_accept():
            return None
        return name

    def done(self, name: str, ok: bool, retry_after: float = 1.0) -> None:
        if name not in self.waiting:
            return
        if ok:
            del self.waiting[name]
            self.handled.add(name)
        else:
            self.waiting[name] = self.clock() + retry_after
            self.waiting.move_to_end(name)


def swapped_taints(node: Obj, add: str | None, remove: tuple[str, ...], now: str) -> list[Obj] | None:
    """The node's taints with the NoExecute `add` (timeAdded now) and without `remove`; None when
    already so."""
    taints = list(spec_of(node).get("taints") or [])
    has = {t.get("key") for t in taints if t.get("effect") == NO_EXECUTE}
    if (add is None or add in has) and not has & set(remove):
        return None
    kept = [t for t in taints if not (t.get("effect") == NO_EXECUTE and t.get("key") in remove)]
    if add is not None and add not in has:
        kept.append({"key": add, "effect": NO_EXECUTE, "timeAdded": now})
    return kept


class NoExecuteTainter:
    def __init__(self, client: Client, rates: EvictionRates, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.rates, self.clock = client, rates, clock
        self.zones: dict[str, ZoneQueue] = {}
        self.states: dict[str, ZoneState] = {}

    def _queue(self, zone: str) -> ZoneQueue:
        queue = self.zones.get(zone)
        if queue is None:
            queue = self.zones[zone] = ZoneQueue(self.rates.rate, self.clock)
        return queue

    async def observe(self, node: Obj, ready_status: str) -> None:
        """`processTaintBaseEviction`: queue an unready node for its taint, swap the opposite one at
        once (no new disruption, only a new kind of it), untaint a Ready one."""
        name = meta.name(node)
        pair = TAINT_FOR_STATUS.get(ready_status)
        if pair is None:
            if ready_status == "True":
                await self.mark_reachable(node)
            return
        add, opposite = pair
        taints = spec_of(node).get("taints") or []
        if any(t.get("key") == opposite and t.get("effect") == NO_EXECUTE for t in taints):
            await self.swap(name, add, (opposite,))
        elif self._queue(zone_key(node)).add(name):
            log.info("node %s is %s: queued for the %s taint", name, "NotReady" if add == NOT_READY else
                     "unreachable", add)

    async def mark_reachable(self, node: Obj) -> None:
        self._queue(zone_key(node)).remove(meta.name(node))
        if swapped_taints(node, None, (NOT_READY, UNREACHABLE), "") is not None:
            await self.swap(meta.name(node), None, (NOT_READY, UNREACHABLE))

    async def swap(self, name: str, add: str | None, remove: tuple[str, ...]) -> bool:
        """Upstream `SwapNodeControllerTaint` on a fresh read, retried on conflicts."""
        for _ in range(SWAP_ATTEMPTS):
            try:
                node = await self.client.get(catalog.NODES, name)
            except errors.NotFound:
                return True
            taints = swapped_taints(node, add, remove, meta.now())
            if taints is None:
                return True
            updated = copy.deepcopy(node)
            updated.setdefault("spec", {})["taints"] = taints
            try:
                await self.client.update(catalog.NODES, updated)
            except errors.Conflict:
                continue
            except errors.NotFound:
                return True
            log.info("node %s: NoExecute taints now %s", name,
                     sorted(t["key"] for t in taints if t.get("effect") == NO_EXECUTE) or "none")
            return True
        return False

    async def tainting_pass(self, nodes: Callable[[str], Obj | None]) -> None:
        """`doNoExecuteTaintingPass`: taint the due nodes of every zone, as their tokens allow."""
        for queue in list(self.zones.values()):
            while (name := queue.due()) is not None:
                node = nodes(name)
                status = str((condition(node, "Ready") or {}).get("status") or "") if node is not None else ""
                if node is None or status not in TAINT_FOR_STATUS:  # gone, or Ready again meanwhile
                    queue.done(name, True)
                    continue
                add, opposite = TAINT_FOR_STATUS[status]
                queue.done(name, await self.swap(name, add, (opposite,)))

    async def run(self, nodes: Callable[[str], Obj | None]) -> None:
        while True:
            await asyncio.sleep(PASS_PERIOD)
            try:
                await self.tainting_pass(nodes)
            except (errors.APIError, OSError, TimeoutError) as exc:
                log.warning("NoExecute tainting pass: %s", exc)

    async def handle_disruption(self, zone_statuses: dict[str, list[str]], nodes: list[Obj]) -> bool:
        """Upstream `handleDisruption`; True when the cluster just left full disruption (the
        caller then restarts every node's grace period)."""
        new = {z: zone_state(s, self.rates.unhealthy_zone_threshold) for z, s in zone_statuses.items()}
        for zone in new:
            self.states.setdefault(zone, ZoneState.INITIAL)
        for zone in [z for z in self.states if z not in zone_statuses]:
            del self.states[zone]
        all_now = all(s is ZoneState.FULL_DISRUPTION for s in new.values())
        all_before = all(s is ZoneState.FULL_DISRUPTION for s in self.states.values())
        if all_now and all_before:
            return False
        if all_now:
            log.warning("Controller detected that all Nodes are not-Ready. Entering master disruption mode")
            for node in nodes:
                await self.mark_reachable(node)
            for zone in self.states:
                self._queue(zone).swap_limiter(0.0)
                self.states[zone] = ZoneState.FULL_DISRUPTION
            return False
        for zone, state in new.items():
            if all_before or self.states[zone] is not state:
                if not all_before:
                    log.info("Controller detected that zone %r is now in state %s", zone, state.value)
                self._queue(zone).swap_limiter(self.rates.for_state(state, len(zone_statuses[zone])))
                self.states[zone] = state
        if all_before:
            log.info("Controller detected that some Nodes are Ready. Exiting master disruption mode")
        return all_before

