"""ReplicaSet controller: creates what is missing, deletes the surplus, adopts orphans, reports status."""

from lab.kube.controllers.replicaset import (
    ReplicaSetController,
    deletion_order,
    slow_start_batches,
)
from lab.kube.machinery import catalog, meta
from tests.support import eventually, holds_for
from tests.unit.kube.controllers.harness import ready, running, template


def _rs(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "default", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"})}}


async def _pods(api) -> list[dict]:  # type: ignore[no-untyped-def]
    return [p for p in await api.objects(catalog.PODS, "default") if not meta.is_deleting(p)]


def _count(api, n: int):  # type: ignore[no-untyped-def]
    """A check: exactly `n` live pods (returns them, or a falsy [] otherwise)."""
    async def check() -> list[dict]:
        pods = await _pods(api)
        return pods if len(pods) == n else []
    return check


async def _rs_status(api) -> dict:  # type: ignore[no-untyped-def]
    return (await api.object(catalog.REPLICASETS, "web", "default") or {}).get("status") or {}


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
        rs = await api.seed(catalog.REPLICASETS, _rs(3))
        pods = await eventually(_count(api, 3))
        # expectations: no double creation while the informer catches up
        await holds_for(_count(api, 3), 0.3, "three pods, no more")
        pod = pods[0]
        assert pod["metadata"]["name"].startswith("web-") and pod["metadata"]["labels"] == {"app": "web"}
        ref = pod["metadata"]["ownerReferences"][0]
        assert ref == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": meta.uid(rs),
                       "controller": True, "blockOwnerDeletion": True}
        status = await eventually(lambda: _rs_status(api))
        assert status["replicas"] == 3 and status["observedGeneration"] == 1


async def test_replaces_a_deleted_pod_and_scales_down() -> None:
    async with running(ReplicaSetController) as (api, _):
        await api.seed(catalog.REPLICASETS, _rs(2))
        pods = await eventually(_count(api, 2))
        await api.delete(catalog.PODS, meta.name(pods[0]), "default")

        async def replaced() -> bool:
            now = await _count(api, 2)()
            return bool(now) and meta.name(pods[0]) not in {meta.name(p) for p in now}
        await eventually(replaced)
        rs = await api.object(catalog.REPLICASETS, "web", "default")
        rs["spec"]["replicas"] = 1  # type: ignore[index]
        await api.update(catalog.REPLICASETS, rs)  # type: ignore[arg-type]
        await eventually(_count(api, 1))


async def test_adopts_a_matching_orphan_and_counts_ready_pods() -> None:
    async with running(ReplicaSetController) as (api, _):
        await api.seed(catalog.PODS, ready({"metadata": {"name": "stray", "namespace": "default",
                                                         "labels": {"app": "web"}},
                                            "spec": template({})["spec"]}, "10.244.1.5"))
        await api.seed(catalog.REPLICASETS, _rs(2))
        await eventually(_count(api, 2))
        stray = await api.object(catalog.PODS, "stray", "default")
        assert meta.controller_ref(stray)["name"] == "web"  # type: ignore[arg-type,index]

        async def one_ready() -> bool:
            return (await _rs_status(api)).get("readyReplicas") == 1
        await eventually(one_ready)

