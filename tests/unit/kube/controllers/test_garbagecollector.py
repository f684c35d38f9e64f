"""Garbage collector: dependents of deleted owners go; orphan and foreground finalizers are served."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.controllers.garbagecollector import GarbageCollector
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.catalog import Resource
from tests.support import eventually
from tests.unit.kube.controllers.harness import running, template

LABELS = {"app": "web"}


def _owned(obj: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "ownerReferences": [meta.new_controller_ref(owner)]}}


def _pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "labels": LABELS},
            "spec": template(LABELS)["spec"]}


def _rs(name: str = "web-abc") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": template(LABELS)}}


def _deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": template(LABELS)}}


async def _gone(api: InMemoryAPI, res: Resource, name: str) -> bool:
    return await api.object(res, name, "default") is None


async def test_pods_of_a_deleted_replicaset_are_deleted() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = await api.seed(catalog.REPLICASETS, _rs())
        await api.seed(catalog.PODS, _owned(_pod("web-abc-1"), rs))
        await api.seed(catalog.PODS, _pod("loner"))
        await api.delete(catalog.REPLICASETS, "web-abc", "default")
        await eventually(lambda: _gone(api, catalog.PODS, "web-abc-1"))
        assert await api.object(catalog.PODS, "loner", "default") is not None


async def test_an_owner_recreated_under_the_same_name_does_not_save_old_dependents() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = await api.seed(catalog.REPLICASETS, _rs())
        await api.seed(catalog.PODS, _owned(_pod("old-pod"), rs))
        await api.delete(catalog.REPLICASETS, "web-abc", "default")
        await api.seed(catalog.REPLICASETS, _rs())  # new uid
        await eventually(lambda: _gone(api, catalog.PODS, "old-pod"))


async def test_orphan_deletion_releases_dependents() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = await api.seed(catalog.REPLICASETS, _rs())
        await api.seed(catalog.PODS, _owned(_pod("kept"), rs))
        marked = await api.delete(catalog.REPLICASETS, "web-abc", "default", propagation_policy="Orphan")
        assert meta.is_deleting(marked) and meta.finalizers(marked) == ["orphan"]  # only marked deleting
        await eventually(lambda: _gone(api, catalog.REPLICASETS, "web-abc"))
        pod = await api.object(catalog.PODS, "kept", "default")
        assert pod is not None and not meta.owner_references(pod)


@contextlib.asynccontextmanager
async def _history(api: InMemoryAPI, res: Resource) -> AsyncIterator[list[tuple[int, str, dict[str, Any]]]]:
    """Every change of `res` from now on, as (resourceVersion, type, object)."""
    events: list[tuple[int, str, dict[str, Any]]] = []
    async with Client(api.config) as client:
        rv = (await client.list(res, "default"))["metadata"]["resourceVersion"]

        async def follow() -> None:
            async for ev in client.watch(res, "default", rv, timeout_seconds=30):
                if ev.type != "BOOKMARK":
                    events.append((int(meta.resource_version(ev.object)), ev.type, ev.object))
        task = asyncio.create_task(follow())
        try:
            yield events
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _deleted_at(events: list[tuple[int, str, dict[str, Any]]], name: str) -> int | None:
    return next((rv for rv, kind, obj in events if kind == "DELETED" and meta.name(obj) == name), None)


async def test_foreground_deletion_deletes_dependents_while_the_owner_waits() -> None:
    async with running(GarbageCollector) as (api, _):
        d = await api.seed(catalog.DEPLOYMENTS, _deployment())
        rs = await api.seed(catalog.REPLICASETS, _owned(_rs(), d))
        await api.seed(catalog.PODS, _owned(_pod("web-abc-1"), rs))
        async with _history(api, catalog.DEPLOYMENTS) as owner, _history(api, catalog.REPLICASETS) as rses, \
                _history(api, catalog.PODS) as pods:
            marked = await api.delete(catalog.DEPLOYMENTS, "web", "default", propagation_policy="Foreground")
            assert meta.is_deleting(marked) and "foregroundDeletion" in meta.finalizers(marked)
            await eventually(lambda: _deleted_at(owner, "web") and _deleted_at(rses, "web-abc")
                             and _deleted_at(pods, "web-abc-1"), what="owner and dependents deleted")
        owner_gone = _deleted_at(owner, "web")
        assert owner_gone is not None
        for dependent_gone in (_deleted_at(rses, "web-abc"), _deleted_at(pods, "web-abc-1")):
            assert dependent_gone is not None
            # resourceVersions order every change in the store: what did the owner look like then?
            before = [obj for rv, _, obj in owner if rv < dependent_gone]
            assert dependent_gone < owner_gone and before, "dependents go first"
            assert meta.is_deleting(before[-1]) and "foregroundDeletion" in meta.finalizers(before[-1])
