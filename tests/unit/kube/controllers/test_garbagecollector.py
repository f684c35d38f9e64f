"""Garbage collector: dependents of deleted owners go; orphan and foreground finalizers are served."""

import copy

from lab.kube.controllers.garbagecollector import GarbageCollector
from lab.kube.machinery import catalog, meta
from tests.unit.kube.controllers.harness import eventually, running


def _owned(kind_res, name: str, owner: dict) -> dict:  # type: ignore[no-untyped-def]
    return {"metadata": {"name": name, "namespace": "default",
                         "ownerReferences": [meta.new_controller_ref(owner)]}}


def _rs(name: str = "web-abc") -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": 1}}


async def test_pods_of_a_deleted_replicaset_are_deleted() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = api.seed(catalog.REPLICASETS, _rs())
        api.seed(catalog.PODS, _owned(catalog.PODS, "web-abc-1", rs))
        api.seed(catalog.PODS, {"metadata": {"name": "loner", "namespace": "default"}})
        api.store.delete(catalog.REPLICASETS, "default", "web-abc", {})
        await eventually(lambda: api.object(catalog.PODS, "web-abc-1", "default") is None)
        assert api.object(catalog.PODS, "loner", "default") is not None


async def test_an_owner_recreated_under_the_same_name_does_not_save_old_dependents() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = api.seed(catalog.REPLICASETS, _rs())
        api.seed(catalog.PODS, _owned(catalog.PODS, "old-pod", rs))
        api.store.delete(catalog.REPLICASETS, "default", "web-abc", {})
        api.seed(catalog.REPLICASETS, _rs())  # new uid
        await eventually(lambda: api.object(catalog.PODS, "old-pod", "default") is None)


async def test_orphan_finalizer_releases_dependents() -> None:
    async with running(GarbageCollector) as (api, _):
        rs = api.seed(catalog.REPLICASETS, {**_rs(), "metadata": {**_rs()["metadata"], "finalizers": ["orphan"]}})
        api.seed(catalog.PODS, _owned(catalog.PODS, "kept", rs))
        api.store.delete(catalog.REPLICASETS, "default", "web-abc", {})  # finalizer: only marked deleting
        await eventually(lambda: api.object(catalog.REPLICASETS, "web-abc", "default") is None)
        pod = api.object(catalog.PODS, "kept", "default")
        assert pod is not None and not meta.owner_references(pod)


async def test_foreground_deletion_deletes_dependents_first() -> None:
    async with running(GarbageCollector) as (api, _):
        d = api.seed(catalog.DEPLOYMENTS, {"apiVersion": "apps/v1", "kind": "Deployment",
                                           "metadata": {"name": "web", "namespace": "default",
                                                        "finalizers": ["foregroundDeletion"]}})
        rs = copy.deepcopy(_rs())
        rs["metadata"]["ownerReferences"] = [meta.new_controller_ref(d)]
        api.seed(catalog.REPLICASETS, rs)
        api.store.delete(catalog.DEPLOYMENTS, "default", "web", {})
        await eventually(lambda: api.object(catalog.REPLICASETS, "web-abc", "default") is None)
        await eventually(lambda: api.object(catalog.DEPLOYMENTS, "web", "default") is None)
