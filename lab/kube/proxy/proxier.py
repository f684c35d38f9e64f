"""The iptables Proxier: turns the cached Services and EndpointSlices into programmed rules.

Level-triggered like upstream: every event only asks the runner for a sync, and each sync
rebuilds the whole ruleset from the caches (restart-safe: stale chains are found by
iptables-save and deleted). A canary chain catches someone flushing our tables.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.kube.machinery.objects import Obj
from lab.kube.proxy.metrics import ProxyMetrics
from lab.kube.proxy.model import service_ports
from lab.kube.proxy.rules import RuleSet, build_rules
from lab.kube.proxy.runner import BoundedFrequencyRunner
from lab.kube.proxy.syncer import Applier

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ProxierOptions:
    node_name: str
    cluster_cidr: str = ""
    """Pod network; traffic to a ClusterIP from outside it is masqueraded."""
    masquerade_all: bool = False
    """SNAT all ClusterIP traffic (iptables.masqueradeAll)."""
    masquerade_bit: int = 14
    sync_period: float = 30.0
    """Longest time between two full syncs; also the canary check interval."""
    min_sync_period: float = 1.0
    """Shortest time between two syncs: bursts of events fold into one."""


class Proxier:
    """Owns the sync runner and canary loop; `run()` until cancelled."""

    def __init__(self, applier: Applier, options: ProxierOptions, services: Callable[[], list[Obj]],
                 slices: Callable[[], list[Obj]]) -> None:
        self.applier = applier
        self.options = options
        self.services = services
        self.slices = slices
        self.metrics = ProxyMetrics()
        self.last_ruleset: RuleSet | None = None
        self.last_synced: float | None = None  # wall clock of the last good sync
        self._last_synced_mono: float | None = None
        self.runner = BoundedFrequencyRunner("sync-runner", self.sync, options.min_sync_period,
                                             options.sync_period)

    def on_change(self, *_objs: Obj) -> None:
        """Informer handler for add, update and delete alike: only ask for a sync."""
        self.runner.run_soon()

    async def sync(self) -> None:
        """One full sync; a failure is logged and retried after syncPeriod, as upstream."""
        try:
            await self._sync()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure means: count, log, retry later
            self.metrics.restore_failures += 1
            log.error("Failed to sync iptables rules, retrying in %.0fs: %s", self.options.sync_period, exc)
            self.runner.retry_after(self.options.sync_period)

    async def _sync(self) -> None:
        start = time.monotonic()
        existing = await self.applier.existing_chains("nat")
        ports = service_ports(self.services(), self.slices())
        rules = build_rules(ports, cluster_cidr=self.options.cluster_cidr, node_name=self.options.node_name,
                            existing_nat_chains=existing, masquerade_all=self.options.masquerade_all,
                            masquerade_bit=self.options.masquerade_bit)
        await self.applier.ensure_jumps()
        await self.applier.restore(rules.payload)
        await self.applier.ensure_canary()
        elapsed = time.monotonic() - start
        self.last_ruleset = rules
        self.last_synced, self._last_synced_mono = time.time(), time.monotonic()
        self.metrics.sync_duration.observe(elapsed)
        self.metrics.last_sync_timestamp = self.last_synced
        self.metrics.rules = {"filter": sum(1 for ln in rules.filter_lines if ln.startswith("-A")),
                              "nat": sum(1 for ln in rules.nat_lines if ln.startswith("-A"))}
        for chain in sorted(rules.deleted_chains):
            log.info("Deleted stale chain %s", chain)
        log.info("SyncProxyRules complete: %d services, %d endpoints, elapsed %.3fs",
                 rules.services, rules.endpoints, elapsed)

    def healthy(self, now_mono: float | None = None) -> bool:
        """Upstream healthTimeout: healthy while the last good sync is under 2 x syncPeriod old."""
        if self._last_synced_mono is None:
            return False
        now = time.monotonic() if now_mono is None else now_mono
        return now - self._last_synced_mono < 2 * self.options.sync_period

    async def _canary_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.sync_period)
            try:
                present = await self.applier.canary_present()
            except Exception as exc:  # a failing check must not end the loop; try again next period
                log.warning("Canary check failed: %s", exc)
                continue
            if not present:
                log.info("iptables canary %s deleted: rules were flushed, resyncing", "KUBE-PROXY-CANARY")
                self.runner.run_soon()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.runner.run())
            tg.create_task(self._canary_loop())
