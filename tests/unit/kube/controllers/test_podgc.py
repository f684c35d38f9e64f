"""The pod garbage collector: terminated pods over the threshold, pods of deleted nodes (after
the quarantine, marked DeletionByPodGC), and pods stuck terminating on an out-of-service node."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers.podgc import PodGarbageCollector
from lab.kube.machinery import catalog
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def pod(name: str, node: str = "", phase: str = "Running") -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "namespace": "default"}
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": md, "spec": spec, "status": {"phase": phase}}


async def names(api: InMemoryAPI) -> list[str]:
    return sorted(p["metadata"]["name"] for p in await api.objects(catalog.PODS, "default"))


async def test_the_pod_gc_removes_what_no_kubelet_will_and_keeps_the_rest() -> None:
    now = [0.0]
    gcs: list[PodGarbageCollector] = []

    def factory(client: Any, informers: Any) -> PodGarbageCollector:
        gcs.append(PodGarbageCollector(client, informers, threshold=2, period=3600, clock=lambda: now[0]))
        return gcs[0]

    async def seed(api: InMemoryAPI) -> None:
        await api.seed(catalog.NODES, {"metadata": {"name": "w1"}})
        await api.seed(catalog.NODES, {"metadata": {"name": "lost"}, "spec": {"taints": [
            {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}]},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
        for i in range(4):  # terminated: the two oldest go
            await api.seed(catalog.PODS, pod(f"done-{i}", "w1", "Succeeded"))
        await api.seed(catalog.PODS, pod("alive", "w1"))
        await api.seed(catalog.PODS, pod("orphan", "gone-node"))
        await api.seed(catalog.PODS, pod("stuck", "lost"))

    async with running(factory, seed=seed) as (api, _):
        gc = gcs[0]
        await api.delete(catalog.PODS, "stuck", "default")  # graceful: its kubelet is gone
        await eventually(lambda: _terminating(gc, "stuck"), 5, "stuck seen terminating")
        await gc.gc()
        got = await names(api)
        assert "done-0" not in got and "done-1" not in got and {"done-2", "done-3", "alive"} <= set(got)
        assert "stuck" not in got  # out of service: force-deleted
        assert "orphan" in got  # quarantined: the node may just be missing from the cache yet
        now[0] = 41.0
        await gc.gc()
        assert "orphan" not in await names(api)


async def _terminating(gc: PodGarbageCollector, name: str) -> bool:
    got = gc.pods.store.get(f"default/{name}")
    return bool(got and got["metadata"].get("deletionTimestamp"))
