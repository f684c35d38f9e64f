"""ReplicaSet controller: creates what is missing, deletes the surplus, adopts orphans, reports status."""

import asyncio

from lab.kube.controllers.replicaset import (
    ReplicaSetController,
    deletion_order,
    slow_start_batches,
)
from lab.kube.machinery import catalog, meta
from tests.unit.kube.controllers.harness import eventually, ready, running, template


def _rs(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "default", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"})}}


def _pods(api) -> list[dict]:  # type: ignore[no-untyped-def]
    return [p for p in api.objects(catalog.PODS, "default") if not meta.is_deleting(p)]


def test_slow_start_batches_double() -> None:
    assert slow_start_batches(10) == [1, 2, 4, 3]


def test_least_useful_pods_are_deleted_first() -> None:
    running_ready = ready({"metadata": {"name": "a", "creationTimestamp": "2024-01-01T00:00:00Z"},
                           "spec": {"nodeName": "n1"}}, "10.0.0.1")
    pending = {"metadata": {"name": "b", "creationTimestamp": "2024-01-01T00:00:00Z"}, "spec": {},
               "status": {"phase": "Pending"}}
    newer = ready({"metadata": {"name": "c", "creationTimestamp": "2024-06-01T00:00:00Z"},
                   "spec": {"nodeName": "n1"}}, "10.0.0.2")
    assert [meta.name(p) for p in deletion_order([running_ready, newer, pending])] == ["b", "c", "a"]


async def test_creates_pods_from_the_template_with_owner_refs() -> None:
    async with running(ReplicaSetController) as (api, _):
        rs = api.seed(catalog.REPLICASETS, _rs(3))
        pods = await eventually(lambda: len(_pods(api)) == 3 and _pods(api))
        await asyncio.sleep(0.3)
        assert len(_pods(api)) == 3  # expectations: no double creation while the informer catches up
        pod = pods[0]
        assert pod["metadata"]["name"].startswith("web-") and pod["metadata"]["labels"] == {"app": "web"}
        ref = pod["metadata"]["ownerReferences"][0]
        assert ref == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": meta.uid(rs),
                       "controller": True, "blockOwnerDeletion": True}
        status = await eventually(lambda: (api.object(catalog.REPLICASETS, "web", "default") or {}).get("status"))
        assert status["replicas"] == 3 and status["observedGeneration"] == 1


async def test_replaces_a_deleted_pod_and_scales_down() -> None:
    async with running(ReplicaSetController) as (api, _):
        api.seed(catalog.REPLICASETS, _rs(2))
        pods = await eventually(lambda: len(_pods(api)) == 2 and _pods(api))
        api.store.delete(catalog.PODS, "default", meta.name(pods[0]), {})
        await eventually(lambda: len(_pods(api)) == 2 and meta.name(pods[0]) not in {meta.name(p) for p in _pods(api)})
        rs = api.object(catalog.REPLICASETS, "web", "default")
        rs["spec"]["replicas"] = 1  # type: ignore[index]
        api.store.update(catalog.REPLICASETS, "default", "web", rs, None)  # type: ignore[arg-type]
        await eventually(lambda: len(_pods(api)) == 1)


async def test_adopts_a_matching_orphan_and_counts_ready_pods() -> None:
    async with running(ReplicaSetController) as (api, _):
        api.seed(catalog.PODS, ready({"metadata": {"name": "stray", "namespace": "default",
                                                   "labels": {"app": "web"}},
                                      "spec": template({})["spec"]}, "10.244.1.5"))
        api.seed(catalog.REPLICASETS, _rs(2))
        await eventually(lambda: len(_pods(api)) == 2)
        stray = api.object(catalog.PODS, "stray", "default")
        assert meta.controller_ref(stray)["name"] == "web"  # type: ignore[arg-type,index]
        await eventually(lambda: ((api.object(catalog.REPLICASETS, "web", "default") or {})
                                  .get("status", {}).get("readyReplicas")) == 1)
