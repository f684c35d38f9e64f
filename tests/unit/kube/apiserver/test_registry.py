"""The generic registry on in-memory storage: what every resource gets (names, namespaces,
CAS updates, status subresource, graceful and finalized deletion, filtered watches)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from lab.kube.apiserver import ipalloc
from lab.kube.apiserver.registry import Registry, RegistryContext
from lab.kube.apiserver.registry.options import DeleteOptions, ListOptions
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.apiserver.strategies import for_resource
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.selectors import FieldSelector, LabelSelector


@pytest.fixture
async def regs() -> dict[Any, Registry]:
    ctx = RegistryContext(MemoryStorage())
    out = {r: Registry(for_resource(r), ctx) for r in catalog.RESOURCES}
    await out[catalog.NAMESPACES].create(None, {"metadata": {"name": "default"}})
    return out


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "img:1"}]}}


async def test_namespaced_create_needs_the_namespace(regs: dict) -> None:
    with pytest.raises(errors.NotFound, match='namespaces "nope" not found'):
        await regs[catalog.PODS].create("nope", pod("p"))


async def test_invalid_objects_are_rejected_with_field_causes(regs: dict) -> None:
    with pytest.raises(errors.Invalid) as info:
        await regs[catalog.PODS].create("default", {"metadata": {"name": "Bad_Name"}, "spec": {}})
    fields = [c.field for c in info.value.causes]
    assert fields == ["metadata.name", "spec.containers"]
    assert info.value.message.startswith('Pod "Bad_Name" is invalid: [metadata.name: Invalid value')


async def test_main_resource_ignores_status_and_status_ignores_spec(regs: dict) -> None:
    pods = regs[catalog.PODS]
    created = await pods.create("default", pod("p"))
    changed = {**created, "status": {"phase": "Running"}}
    updated = await pods.update("default", "p", changed)
    assert updated["status"]["phase"] == "Pending"
    status = await pods.update("default", "p", {**updated, "status": {"phase": "Running"},
                                               "spec": {"containers": []}}, subresource="status")
    assert status["status"]["phase"] == "Running" and status["spec"]["containers"]


async def test_stale_update_conflicts(regs: dict) -> None:
    cms = regs[catalog.CONFIGMAPS]
    created = await cms.create("default", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    await cms.update("default", "c", {**created, "data": {"a": "2"}})
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await cms.update("default", "c", {**created, "data": {"a": "3"}})


async def test_deployment_generation_follows_spec_changes(regs: dict) -> None:
    deps = regs[catalog.DEPLOYMENTS]
    body = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    created = await deps.create("default", body)
    assert created["metadata"]["generation"] == 1
    relabeled = await deps.update("default", "d",
                                  {**created, "metadata": {**created["metadata"], "labels": {"x": "y"}}})
    assert relabeled["metadata"]["generation"] == 1
    scaled = await deps.update("default", "d", {**relabeled, "spec": {**relabeled["spec"], "replicas": 4}})
    assert scaled["metadata"]["generation"] == 2
    with pytest.raises(errors.Invalid, match="field is immutable"):
        relabeled_pods = {"app": "d", "v": "2"}
        await deps.update("default", "d", {**scaled, "spec": {
            **scaled["spec"], "selector": {"matchLabels": relabeled_pods},
            "template": {**scaled["spec"]["template"], "metadata": {"labels": relabeled_pods}}}})


async def test_bound_pods_delete_gracefully(regs: dict) -> None:
    pods = regs[catalog.PODS]
    body = pod("p")
    body["spec"]["nodeName"] = "n1"
    await pods.create("default", body)
    obj, removed = await pods.delete("default", "p")
    assert not removed and obj["metadata"]["deletionGracePeriodSeconds"] == 30
    obj, removed = await pods.delete("default", "p", DeleteOptions(grace_period_seconds=0))
    assert removed
    with pytest.raises(errors.NotFound):
        await pods.get("default", "p")


async def test_a_delete_racing_a_status_update_decides_again_instead_of_conflicting(regs: dict) -> None:
    pods = regs[catalog.PODS]
    await pods.create("default", pod("p"))
    storage = pods.storage
    real_delete = storage.delete
    raced = []

    async def delete_after_a_write(key: str, revision: int) -> Any:
        if not raced:  # another writer (the kubelet's status) gets in between our read and our delete
            raced.append(True)
            await pods.guaranteed_update("default", "p", lambda o: {**o, "status": {"phase": "Running"}},
                                         subresource="status")
        return await real_delete(key, revision)

    storage.delete = delete_after_a_write  # type: ignore[method-assign]
    obj, removed = await pods.delete("default", "p", DeleteOptions(grace_period_seconds=0))
    assert removed and raced and obj["status"]["phase"] == "Running"
    with pytest.raises(errors.NotFound):
        await pods.get("default", "p")
    await pods.create("default", pod("q"))
    with pytest.raises(errors.Conflict):  # a precondition still refuses, retried or not
        await pods.delete("default", "q", DeleteOptions(grace_period_seconds=0, uid="someone-else"))


async def test_namespace_deletion_waits_for_finalize(regs: dict) -> None:
    nss = regs[catalog.NAMESPACES]
    await nss.create(None, {"metadata": {"name": "gone"}})
    obj, removed = await nss.delete(None, "gone")
    assert not removed and obj["status"]["phase"] == "Terminating"
    with pytest.raises(errors.Forbidden):
        await regs[catalog.CONFIGMAPS].create("gone", {"metadata": {"name": "c"}})
    await nss.update(None, "gone", {**obj, "spec": {"finalizers": []}}, subresource="finalize")
    with pytest.raises(errors.NotFound):
        await nss.get(None, "gone")


async def test_field_selectors_and_unknown_fields(regs: dict) -> None:
    pods = regs[catalog.PODS]
    await pods.create("default", pod("a"))
    b = pod("b")
    b["spec"]["nodeName"] = "n1"
    await pods.create("default", b)
    listed = await pods.list("default", ListOptions(field_selector=FieldSelector.parse("spec.nodeName=n1")))
    assert [p["metadata"]["name"] for p in listed["items"]] == ["b"]
    with pytest.raises(errors.BadRequest, match="field label not supported"):
        await pods.list("default", ListOptions(field_selector=FieldSelector.parse("spec.bogus=1")))


async def test_watch_filters_by_label_on_old_and_new(regs: dict) -> None:
    cms = regs[catalog.CONFIGMAPS]
    listed = await cms.list("default")
    opts = ListOptions(label_selector=LabelSelector.parse("app=x"),
                       resource_version=listed["metadata"]["resourceVersion"])
    created = await cms.create("default", {"metadata": {"name": "c", "labels": {"app": "x"}}})
    await cms.update("default", "c", {**created, "metadata": {**created["metadata"], "labels": {"app": "y"}}})
    seen = []
    async def collect() -> None:
        async for ev in cms.watch("default", opts):
            seen.append(ev.type)
            if len(seen) == 2:
                return
    await asyncio.wait_for(collect(), 2)
    assert seen == ["ADDED", "DELETED"]


def with_service_ips(registry: Registry, cidr: str) -> Registry:
    """The same registry (same storage) with a cluster IP allocator over `cidr`."""
    ctx = registry.ctx
    ips = ipalloc.service_ip_allocator(ctx.storage, ctx.prefix, cidr)
    return Registry(registry.strategy, dataclasses.replace(ctx, service_ips=ips))


async def test_service_ips_are_allocated_and_released(regs: dict) -> None:
    svcs = with_service_ips(regs[catalog.SERVICES], "10.0.0.0/30")
    one = await svcs.create("default", {"metadata": {"name": "one"}, "spec": {"ports": [{"port": 80}]}})
    two = await svcs.create("default", {"metadata": {"name": "two"}, "spec": {"ports": [{"port": 80}]}})
    assert {one["spec"]["clusterIP"], two["spec"]["clusterIP"]} == {"10.0.0.1", "10.0.0.2"}
    with pytest.raises(errors.InternalError, match="range is full"):
        await svcs.create("default", {"metadata": {"name": "three"}, "spec": {"ports": [{"port": 80}]}})
    await svcs.delete("default", "one")
    three = await svcs.create("default", {"metadata": {"name": "three"}, "spec": {"ports": [{"port": 80}]}})
    assert three["spec"]["clusterIP"] == one["spec"]["clusterIP"]


async def test_service_update_without_cluster_ip_keeps_it(regs: dict) -> None:
    svcs = with_service_ips(regs[catalog.SERVICES], "10.96.0.0/12")
    created = await svcs.create("default", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}})
    replaced = await svcs.update("default", "s", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 81}]}})
    assert replaced["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    with pytest.raises(errors.Invalid, match="field is immutable"):
        await svcs.update("default", "s", {"metadata": {"name": "s"},
                                          "spec": {"clusterIP": "10.96.9.9", "ports": [{"port": 81}]}})
