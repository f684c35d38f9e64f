"""What `kubectl describe` shows: the ReplicaSet and Deployment controllers record upstream's Events,
and the shared recorder folds repeats into one Event with a count."""

from __future__ import annotations

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.client.events import EventRecorder
from lab.kube.controllers.deployment import DeploymentController
from lab.kube.controllers.replicaset import ReplicaSetController
from lab.kube.machinery import catalog, meta
from tests.support import eventually
from tests.unit.kube.controllers.harness import running, template


def _events(api: InMemoryAPI, kind: str, reason: str, count: int | None = None):  # type: ignore[no-untyped-def]
    """A check: the Events of this kind and reason (all of them once there are `count`)."""
    async def check() -> list[dict]:
        found = [e for e in await api.objects(catalog.EVENTS, "default")
                 if e["involvedObject"]["kind"] == kind and e["reason"] == reason]
        return found if count is None or len(found) == count else []
    return check


def _rs(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"})}}


def _deployment(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"})}}


async def test_replicaset_records_each_created_and_deleted_pod() -> None:
    async with running(ReplicaSetController) as (api, _):
        await api.seed(catalog.REPLICASETS, _rs(2))
        created = await eventually(_events(api, "ReplicaSet", "SuccessfulCreate", count=2))
        pods = sorted(meta.name(p) for p in await api.objects(catalog.PODS, "default"))
        assert sorted(e["message"] for e in created) == [f"Created pod: {name}" for name in pods]
        assert all(e["source"] == {"component": "replicaset-controller"} and e["type"] == "Normal"
                   and e["involvedObject"]["name"] == "web" for e in created)

        rs = await api.object(catalog.REPLICASETS, "web", "default")
        await api.update(catalog.REPLICASETS, {**rs, "spec": {**rs["spec"], "replicas": 1}})  # type: ignore[index,dict-item]
        [deleted] = await eventually(_events(api, "ReplicaSet", "SuccessfulDelete"))
        assert deleted["message"].removeprefix("Deleted pod: ") in pods


async def test_deployment_records_scaling_its_replicaset() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        await api.seed(catalog.DEPLOYMENTS, _deployment(3))
        [up] = await eventually(_events(api, "Deployment", "ScalingReplicaSet"))
        rs_name = meta.name((await api.objects(catalog.REPLICASETS, "default"))[0])
        assert up["message"] == f"Scaled up replica set {rs_name} to 3"
        assert up["source"] == {"component": "deployment-controller"}

        d = await api.object(catalog.DEPLOYMENTS, "web", "default")
        await api.update(catalog.DEPLOYMENTS, {**d, "spec": {**d["spec"], "replicas": 1}})  # type: ignore[index,dict-item]

        async def scaled_down() -> list[str]:
            scaled = await _events(api, "Deployment", "ScalingReplicaSet")()
            return [e["message"] for e in scaled if "down" in e["message"]]
        messages = await eventually(scaled_down)
        assert messages == [f"Scaled down replica set {rs_name} to 1 from 3"]


async def test_repeated_events_become_one_event_with_a_count() -> None:
    async with InMemoryAPI() as api, Client(api.config) as client:
        recorder = EventRecorder(client, "default-scheduler", host="cp1")
        pod = await api.seed(catalog.PODS, {"apiVersion": "v1", "kind": "Pod",
                                            "metadata": {"name": "p", "namespace": "default"},
                                            "spec": {"containers": [{"name": "c", "image": "x"}]}})
        for _ in range(3):
            await recorder.record(pod, "Warning", "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.")
        await recorder.record(pod, "Normal", "Scheduled", "Successfully assigned default/p to n1")
        failed, scheduled = sorted(await api.objects(catalog.EVENTS, "default"), key=lambda e: e["reason"])
        assert failed["count"] == 3 and scheduled["count"] == 1
        assert failed["source"] == {"component": "default-scheduler", "host": "cp1"}
        assert failed["reportingComponent"] == "default-scheduler" and failed["reportingInstance"] == "cp1"
        assert failed["involvedObject"]["kind"] == "Pod" and failed["involvedObject"]["uid"] == meta.uid(pod)
        assert failed["firstTimestamp"] <= failed["lastTimestamp"]
