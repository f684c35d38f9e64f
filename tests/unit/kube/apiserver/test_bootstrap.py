"""Bootstrap on a context without a server: the system objects are reconciled, leaked cluster
IPs freed, storage outages retried until readiness can be declared, and a bug is not retried."""

from __future__ import annotations

import logging

import pytest

from lab.kube.apiserver import bootstrap
from lab.kube.apiserver.context import ServerContext, build_context
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage import Unavailable
from lab.kube.apiserver.storage.interface import Obj
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.machinery import catalog


class FlakyStorage(MemoryStorage):
    """Memory storage whose first `failures` reads raise `failure` (etcd away, or a bug)."""

    def __init__(self, failures: int, failure: Exception) -> None:
        super().__init__()
        self.failures, self.failure = failures, failure

    async def get(self, key: str) -> Obj:
        if self.failures:
            self.failures -= 1
            raise self.failure
        return await super().get(key)


def context(storage: MemoryStorage) -> ServerContext:
    return build_context(Settings(storage_backend="memory", advertise_address="10.0.0.5"), storage)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "FIRST_RETRY", 0.01)


async def test_reconciles_the_system_objects_and_declares_readiness() -> None:
    ctx = context(MemoryStorage())
    assert await ctx.readiness.problem() == "poststarthook/rbac/bootstrap-roles: bootstrap objects not reconciled yet"
    await bootstrap.run(ctx)
    namespaces = (await ctx.registries[catalog.NAMESPACES].list(None))["items"]
    assert sorted(n["metadata"]["name"] for n in namespaces) == sorted(bootstrap.SYSTEM_NAMESPACES)
    svc = await ctx.registries[catalog.SERVICES].get("default", "kubernetes")
    eps = await ctx.registries[catalog.ENDPOINTS].get("default", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert eps["subsets"][0]["addresses"] == [{"ip": "10.0.0.5"}]
    assert await ctx.readiness.problem() is None


async def test_frees_cluster_ips_whose_service_is_gone() -> None:
    ctx = context(MemoryStorage())
    leaked = await ctx.service_ips.allocate("default/crashed-mid-create")
    await bootstrap.run(ctx)
    assert await ctx.service_ips.allocated() == {"10.96.0.1": "default/kubernetes"}
    assert leaked != "10.96.0.1"


async def test_storage_outages_are_retried_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    ctx = context(FlakyStorage(3, Unavailable("/registry", "etcd unavailable: connection refused")))
    with caplog.at_level(logging.WARNING, logger=bootstrap.__name__):
        await bootstrap.run(ctx)
    retries = [r.getMessage() for r in caplog.records if r.name == bootstrap.__name__]
    assert len(retries) == 3 and all("bootstrap failed, retrying" in m for m in retries)
    assert await ctx.readiness.problem() is None


async def test_a_bug_is_raised_not_retried() -> None:
    storage = FlakyStorage(1, TypeError("a bug"))
    ctx = context(storage)
    with pytest.raises(TypeError, match="a bug"):
        await bootstrap.run(ctx)
    assert not ctx.readiness.bootstrapped.is_set()
