"""/readyz as upstream's named checks: not ready until the authorizer caches synced."""

from __future__ import annotations

from lab.kube.apiserver.readiness import Readiness
from lab.kube.apiserver.storage.memory import MemoryStorage


async def test_not_ready_until_the_caches_synced_and_bootstrap_ran() -> None:
    synced = False
    readiness = Readiness(MemoryStorage(), caches_synced=lambda: synced)
    assert await readiness.checks() == [
        ("ping", None), ("etcd", None), ("informer-sync", "authorizer caches not synced yet"),
        ("poststarthook/rbac/bootstrap-roles", "bootstrap objects not reconciled yet")]
    synced = True
    readiness.bootstrapped.set()
    assert await readiness.problem() is None
