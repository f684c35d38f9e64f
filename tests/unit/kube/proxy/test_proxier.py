"""The Proxier's sync: builds from the caches, applies once, reconciles leftovers, reports health."""

from __future__ import annotations

import asyncio
from typing import Any

from lab.kube.proxy.chains import endpoint_chain, service_chain
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.syncer import ApplyError, RecordingApplier
from tests.support import eventually

from .objects import endpoint, endpoint_slice, service

WEB_CHAIN = service_chain("default/web:http", "tcp")


def proxier_with(services: list[Any], slices: list[Any]) -> tuple[Proxier, RecordingApplier]:
    rec = RecordingApplier()
    opts = ProxierOptions(node_name="w1", cluster_cidr="10.244.0.0/16", sync_period=30, min_sync_period=0.01)
    return Proxier(rec, opts, lambda: services, lambda: slices), rec


async def test_a_sync_programs_services_with_one_restore_and_the_jumps() -> None:
    proxier, rec = proxier_with([service("web", "10.96.0.10", ("http", 80, "TCP"))],
                                [endpoint_slice("web", [endpoint("10.244.1.5")], ("http", 8080, "TCP"))])
    await proxier.sync()
    assert len(rec.payloads) == 1 and rec.jumps_ensured == 1
    assert "--to-destination 10.244.1.5:8080" in rec.last
    assert await rec.canary_present()
    assert proxier.healthy() and proxier.metrics.sync_duration.count == 1


async def test_endpoint_removal_deletes_its_chain_on_the_next_sync() -> None:
    slices = [endpoint_slice("web", [endpoint("10.244.1.5"), endpoint("10.244.1.6")], ("http", 8080, "TCP"))]
    proxier, rec = proxier_with([service("web", "10.96.0.10", ("http", 80, "TCP"))], slices)
    await proxier.sync()
    gone = endpoint_chain("default/web:http", "tcp", "10.244.1.6:8080")
    assert gone in rec.chains["nat"]
    slices[0] = endpoint_slice("web", [endpoint("10.244.1.5")], ("http", 8080, "TCP"))
    await proxier.sync()
    assert f"-X {gone}" in rec.last and gone not in rec.chains["nat"]
    assert WEB_CHAIN in rec.chains["nat"]


async def test_a_restart_cleans_up_what_a_previous_instance_left() -> None:
    proxier, rec = proxier_with([], [])
    leftover = service_chain("default/deleted-while-down:http", "tcp")
    rec.chains["nat"] |= {"KUBE-SERVICES", leftover}
    await proxier.sync()
    assert f"-X {leftover}" in rec.last and leftover not in rec.chains["nat"]


async def test_a_failed_restore_is_counted_and_keeps_health_unset() -> None:
    proxier, rec = proxier_with([], [])
    rec.fail_next = ApplyError("iptables-restore: line 7 failed")
    await proxier.sync()
    assert proxier.metrics.restore_failures == 1 and not proxier.healthy()
    await proxier.sync()
    assert proxier.healthy()


async def test_health_goes_stale_after_two_sync_periods() -> None:
    proxier, _ = proxier_with([], [])
    assert not proxier.healthy()  # nothing programmed yet
    await proxier.sync()
    assert proxier._last_synced_mono is not None
    assert proxier.healthy(now_mono=proxier._last_synced_mono + 59)
    assert not proxier.healthy(now_mono=proxier._last_synced_mono + 61)


async def test_metrics_render_in_prometheus_text() -> None:
    proxier, _ = proxier_with([service("web", "10.96.0.10", ("http", 80, "TCP"))], [])
    await proxier.sync()
    text = proxier.metrics.render()
    assert "kubeproxy_sync_proxy_rules_duration_seconds_count 1" in text
    assert 'kubeproxy_sync_proxy_rules_iptables_total{table="filter"} 4' in text  # 3 forward + 1 reject


async def test_the_canary_catches_flushed_rules_between_periodic_syncs() -> None:
    rec = RecordingApplier()
    opts = ProxierOptions(node_name="w1", sync_period=0.1, min_sync_period=0.01)
    proxier = Proxier(rec, opts, list, list)
    proxier.runner.max_interval = 3600  # only the canary can ask for the second sync
    task = asyncio.create_task(proxier.run())
    try:
        await eventually(lambda: rec.payloads, 2, "the first sync")
        rec.flush_all()
        await eventually(lambda: len(rec.payloads) >= 2, 2, "a sync after the canary went missing")
        assert len(rec.payloads) == 2 and await rec.canary_present()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
