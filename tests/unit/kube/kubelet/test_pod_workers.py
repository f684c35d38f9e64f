"""PodWorkers against the in-memory API: status reaches the API, deletions finish, orphans go away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.kubelet.pod_workers import PodWorkers
from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import VolumeManager
from lab.kube.machinery import catalog
from tests.support import eventually

from .conftest import FakeObjects, FakeTokenSource, make_pod


@pytest.fixture
async def api() -> AsyncIterator[InMemoryAPI]:
    async with InMemoryAPI() as server:
        yield server


@pytest.fixture
async def workers(api: InMemoryAPI, syncer: Any) -> AsyncIterator[PodWorkers]:
    async with Client(api.config) as client:
        pw = PodWorkers(client, syncer, "w1")
        task = asyncio.create_task(pw.informer.run())
        await pw.informer.wait_synced(timeout=3)
        yield pw
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def seed(api: InMemoryAPI, pod: dict[str, Any]) -> dict[str, Any]:
    return await api.seed(catalog.PODS, {k: v for k, v in pod.items() if k != "metadata"} |
                          {"metadata": {k: v for k, v in pod["metadata"].items() if k != "uid"}})


async def test_running_pod_status_has_the_upstream_shape(api, workers, runtime):
    pod = await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")

    status = (await api.object(catalog.PODS, "web", "default"))["status"]
    [sandbox] = runtime.sandboxes.values()
    [container] = runtime.running("app")
    assert status["phase"] == "Running"
    assert status["podIP"] == sandbox.ip and status["podIPs"] == [{"ip": sandbox.ip}]
    assert status["hostIP"] == "192.168.56.21" and status["startTime"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True", "PodScheduled": "True", "Initialized": "True",
        "ContainersReady": "True", "Ready": "True"}
    [cs] = status["containerStatuses"]
    assert cs["name"] == "app" and cs["ready"] is True and cs["started"] is True and cs["restartCount"] == 0
    assert cs["containerID"] == f"containerd://{container.id}"
    assert cs["image"] == "busybox:1.36" and cs["imageID"].startswith("sha256:")
    assert "startedAt" in cs["state"]["running"]
    assert dict(sandbox.config.labels)["io.kubernetes.pod.uid"] == pod["metadata"]["uid"]


async def test_an_unchanged_pod_is_not_patched_again(api, workers):
    await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    await eventually(lambda: (workers.informer.store.get("default/web") or {}).get("status", {}).get("podIP"))
    before = len([r for r in api.requests if r[0] == "PATCH"])
    await workers.sync("default/web")
    assert len([r for r in api.requests if r[0] == "PATCH"]) == before


async def test_deleting_a_pod_stops_it_then_removes_it_from_the_api(api, workers, runtime):
    await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    async with Client(api.config) as client:
        await client.delete(catalog.PODS, "web", "default", grace_period_seconds=5)
    assert await api.object(catalog.PODS, "web", "default") is not None  # bound pods wait for the kubelet
    await eventually(lambda: (workers.informer.store.get("default/web") or {}).get("metadata", {})
                     .get("deletionTimestamp"))
    await workers.sync("default/web")

    assert any(m == "StopContainer" and a.endswith(" 5") for m, a in runtime.calls)
    assert runtime.sandboxes == {} and runtime.containers == {}
    assert await api.object(catalog.PODS, "web", "default") is None


async def test_sandboxes_of_pods_gone_from_the_api_are_removed(api, workers, syncer, runtime):
    await syncer.sync(make_pod("ghost", "uid-ghost"))  # ran before, its pod was deleted meanwhile
    await workers.relist()
    key = await workers.queue.get()
    assert key == "default/ghost"
    await workers.sync(key)
    assert runtime.sandboxes == {}


async def test_pods_wait_while_the_network_is_not_ready(api, workers, runtime):
    workers.network_ready = lambda: False
    await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    assert runtime.sandboxes == {}


async def test_relist_removes_the_directories_of_pods_neither_the_api_nor_the_runtime_knows(
        api, workers, runtime, clock, tmp_path):
    workers.syncer.volumes = VolumeManager(tmp_path, TokenManager(FakeTokenSource(clock), clock=clock),
                                           FakeObjects(), clock=clock)
    pod = await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.syncer.sync(make_pod("ghost", "uid-running"))  # its pod is gone, its sandbox runs
    for uid in (pod["metadata"]["uid"], "uid-running", "uid-gone"):
        (tmp_path / "pods" / uid).mkdir(parents=True, exist_ok=True)

    runtime.fail_next("ListPodSandbox")
    await workers.relist()  # without the runtime's answer nothing counts as orphaned
    assert len(list((tmp_path / "pods").iterdir())) == 3
    await workers.relist()
    assert sorted(p.name for p in (tmp_path / "pods").iterdir()) == sorted([pod["metadata"]["uid"], "uid-running"])


async def test_a_pod_past_its_active_deadline_fails_and_its_containers_stop(api, workers, runtime):
    pod = make_pod()
    pod["spec"]["activeDeadlineSeconds"] = 5
    pod["status"]["startTime"] = "2020-01-01T00:00:00Z"  # long ago
    await seed(api, pod)
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")  # nothing ran yet: it fails before starting
    status = (await api.object(catalog.PODS, "web", "default"))["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "DeadlineExceeded")
    assert status["message"] == "Pod was active on the node longer than the specified deadline"
    assert not runtime.running("app")


async def test_a_running_pod_is_stopped_when_its_deadline_comes(api, workers, runtime):
    pod = make_pod()
    pod["spec"]["activeDeadlineSeconds"] = 1
    await seed(api, pod)
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    assert runtime.running("app")

    async def failed() -> bool:
        await workers.sync("default/web")
        return (await api.object(catalog.PODS, "web", "default"))["status"]["phase"] == "Failed"
    await eventually(failed, timeout=5, what="the pod failed at its deadline")
    assert not runtime.running("app")
    status = (await api.object(catalog.PODS, "web", "default"))["status"]
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 143


async def test_a_pod_stopped_for_node_shutdown_fails_as_terminated_and_stays_stopped(api, workers, runtime):
    await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    assert [meta_name(p) for p in workers.active_pods()] == ["web"]
    seen_while_stopping: list[dict[str, Any]] = []
    stop_all = workers.syncer.stop_all

    async def stop_and_look(pod: dict[str, Any], grace: int) -> None:
        seen_while_stopping.append((await api.object(catalog.PODS, "web", "default"))["status"])
        await stop_all(pod, grace)
    workers.syncer.stop_all = stop_and_look
    await workers.shutdown_pod(workers.informer.store.get("default/web"), 3)
    [early] = seen_while_stopping  # as upstream: the condition at once, the phase once nothing runs
    assert early["phase"] == "Running" and "DisruptionTarget" in {c["type"] for c in early["conditions"]}
    status = (await api.object(catalog.PODS, "web", "default"))["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "Terminated")
    assert status["message"] == "Pod was terminated in response to imminent node shutdown."
    target = {c["type"]: c for c in status["conditions"]}["DisruptionTarget"]
    assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
    assert not runtime.running("app")
    await workers.sync("default/web")  # never started again
    assert not runtime.running("app") and workers.active_pods() == []


async def test_a_shutting_down_node_rejects_new_pods_but_keeps_syncing_admitted_ones(api, syncer, runtime):
    shutting_down = False
    async with Client(api.config) as client:
        pw = PodWorkers(client, syncer, "w1", shutting_down=lambda: shutting_down)
        task = asyncio.create_task(pw.informer.run())
        try:
            await pw.informer.wait_synced(timeout=3)
            await seed(api, make_pod("old", uid="uid-old"))
            await eventually(lambda: pw.informer.store.get("default/old"))
            await pw.sync("default/old")
            shutting_down = True
            await seed(api, make_pod("new", uid="uid-new"))
            await eventually(lambda: pw.informer.store.get("default/new"))
            await pw.sync("default/new")
            await pw.sync("default/old")
            new = (await api.object(catalog.PODS, "new", "default"))["status"]
            assert (new["phase"], new["reason"]) == ("Failed", "NodeShutdown")
            assert new["message"] == "Pod was rejected as the node is shutting down."
            assert (await api.object(catalog.PODS, "old", "default"))["status"]["phase"] == "Running"
            assert [dict(c.config.labels)["io.kubernetes.pod.name"] for c in runtime.running("app")] == ["old"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def meta_name(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["name"])


async def test_a_new_pod_start_is_measured_once_from_first_seen_to_running(api, workers):
    await seed(api, make_pod())
    await eventually(lambda: workers.informer.store.get("default/web"))
    await workers.sync("default/web")
    await workers.sync("default/web")
    assert workers.metrics.pod_start.count == 1
    assert {labels: s.count for labels, s in workers.metrics.pod_worker.series.items()} == {("create",): 1,
                                                                                            ("sync",): 1}
