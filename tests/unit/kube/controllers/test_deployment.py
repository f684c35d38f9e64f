"""Deployment controller with the ReplicaSet controller and a pretend kubelet that readies pods."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from lab.kube.client.fake import FakeAPI
from lab.kube.controllers import deployment_util as du
from lab.kube.controllers.deployment import DeploymentController
from lab.kube.controllers.replicaset import ReplicaSetController
from lab.kube.machinery import catalog, meta
from tests.unit.kube.controllers.harness import eventually, ready, running, template


def _deployment(replicas: int = 3, strategy: dict | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"}), "strategy": strategy or {"type": "RollingUpdate"},
                     "progressDeadlineSeconds": 600}}


@contextlib.asynccontextmanager
async def kubelet(api: FakeAPI, peak: list[int]) -> AsyncIterator[None]:
    """Marks new pods Running+Ready, finishes graceful deletes, and records the peak pod count."""
    async def loop() -> None:
        n = 0
        while True:
            pods = api.objects(catalog.PODS, "default")
            peak[0] = max(peak[0], len(pods))
            for p in pods:
                if meta.is_deleting(p):
                    api.store.delete(catalog.PODS, "default", meta.name(p), {"gracePeriodSeconds": 0})
                elif not (p.get("status") or {}).get("podIP"):
                    n += 1
                    api.store.update(catalog.PODS, "default", meta.name(p), ready(p, f"10.244.0.{n}"), "status")
            await asyncio.sleep(0.02)
    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


def _status(api: FakeAPI) -> dict:
    return (api.object(catalog.DEPLOYMENTS, "web", "default") or {}).get("status") or {}


def _rses(api: FakeAPI) -> list[dict]:
    return sorted(api.objects(catalog.REPLICASETS, "default"), key=du.revision_of)


def _complete(api: FakeAPI, replicas: int) -> bool:
    s = _status(api)
    return (s.get("updatedReplicas") == replicas and s.get("availableReplicas") == replicas
            and s.get("replicas") == replicas)


async def test_rollout_creates_a_hashed_replicaset_and_reports_available() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            d = api.seed(catalog.DEPLOYMENTS, _deployment(3))
            await eventually(lambda: _complete(api, 3))
        [rs] = _rses(api)
        pod_hash = du.compute_hash(d["spec"]["template"])
        assert meta.name(rs) == f"web-{pod_hash}" and meta.labels(rs)["pod-template-hash"] == pod_hash
        assert meta.annotations(rs)[du.REVISION] == "1"
        conditions = {c["type"]: c for c in _status(api)["conditions"]}
        assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
        assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
        assert conditions["Progressing"]["message"] == f'ReplicaSet "web-{pod_hash}" has successfully progressed.'
        assert _status(api)["observedGeneration"] == 1


async def test_rolling_update_respects_max_surge_and_keeps_history() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            api.seed(catalog.DEPLOYMENTS, _deployment(4))
            await eventually(lambda: _complete(api, 4))
            peak[0] = 0
            d = api.object(catalog.DEPLOYMENTS, "web", "default")
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"  # type: ignore[index]
            api.store.update(catalog.DEPLOYMENTS, "default", "web", d, None)  # type: ignore[arg-type]

            def rolled() -> bool:
                rses = _rses(api)
                return (len(rses) == 2 and du.replicas_of(rses[0]) == 0 and _complete(api, 4)
                        and _status(api).get("observedGeneration") == 2)
            await eventually(rolled, timeout=10)
        _, new = _rses(api)
        assert meta.annotations(new)[du.REVISION] == "2"
        assert meta.annotations(api.object(catalog.DEPLOYMENTS, "web", "default"))[du.REVISION] == "2"  # type: ignore[arg-type]
        assert peak[0] <= 5  # 4 replicas + maxSurge 25% (rounded up to 1)


async def test_recreate_scales_old_to_zero_before_the_new_one() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            api.seed(catalog.DEPLOYMENTS, _deployment(2, {"type": "Recreate"}))
            await eventually(lambda: _complete(api, 2))
            peak[0] = 0
            d = api.object(catalog.DEPLOYMENTS, "web", "default")
            d["spec"]["template"]["metadata"]["labels"]["v"] = "2"  # type: ignore[index]
            api.store.update(catalog.DEPLOYMENTS, "default", "web", d, None)  # type: ignore[arg-type]
            await eventually(lambda: len(_rses(api)) == 2 and _complete(api, 2), timeout=10)
        assert peak[0] <= 2  # never old and new pods side by side


async def test_history_beyond_revision_history_limit_is_deleted() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            dep = _deployment(1)
            dep["spec"]["revisionHistoryLimit"] = 1
            api.seed(catalog.DEPLOYMENTS, dep)
            for image in ("nginx:2", "nginx:3"):
                await eventually(lambda: _complete(api, 1))
                d = api.object(catalog.DEPLOYMENTS, "web", "default")
                d["spec"]["template"]["spec"]["containers"][0]["image"] = image  # type: ignore[index]
                api.store.update(catalog.DEPLOYMENTS, "default", "web", d, None)  # type: ignore[arg-type]
                await eventually(lambda: _status(api).get("observedGeneration") == meta.generation(
                    api.object(catalog.DEPLOYMENTS, "web", "default")))  # type: ignore[arg-type]
            await eventually(lambda: _complete(api, 1) and len(_rses(api)) == 2, timeout=10)
        assert [meta.annotations(rs)[du.REVISION] for rs in _rses(api)] == ["2", "3"]


async def test_scaling_a_stable_deployment_down_and_up() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            api.seed(catalog.DEPLOYMENTS, _deployment(3))
            await eventually(lambda: _complete(api, 3))
            for replicas in (1, 4):
                d = api.object(catalog.DEPLOYMENTS, "web", "default")
                d["spec"]["replicas"] = replicas  # type: ignore[index]
                api.store.update(catalog.DEPLOYMENTS, "default", "web", d, None)  # type: ignore[arg-type]
                await eventually(lambda r=replicas: _complete(api, r) and len(
                    [p for p in api.objects(catalog.PODS, "default") if not meta.is_deleting(p)]) == r)
        [rs] = _rses(api)
        assert meta.annotations(rs)[du.DESIRED_REPLICAS] == "4"
