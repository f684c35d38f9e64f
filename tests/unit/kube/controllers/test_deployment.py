"""Deployment controller with the ReplicaSet controller and a pretend kubelet that readies pods."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers import deployment_util as du
from lab.kube.controllers.deployment import DeploymentController
from lab.kube.controllers.replicaset import ReplicaSetController
from lab.kube.machinery import catalog, errors, meta
from tests.support import eventually
from tests.unit.kube.controllers.harness import ready, running, template


def _deployment(replicas: int = 3, strategy: dict | None = None) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"}), "strategy": strategy or {"type": "RollingUpdate"},
                     "progressDeadlineSeconds": 600}}


@contextlib.asynccontextmanager
async def kubelet(api: InMemoryAPI, peak: list[int]) -> AsyncIterator[None]:
    """Marks new pods Running+Ready, finishes graceful deletes, and records the peak pod count."""
    async def loop() -> None:
        n = 0
        while True:
            pods = await api.objects(catalog.PODS, "default")
            peak[0] = max(peak[0], len(pods))
            for p in pods:
                try:
                    if meta.is_deleting(p):
                        await api.delete(catalog.PODS, meta.name(p), "default", grace_period_seconds=0)
                    elif not (p.get("status") or {}).get("podIP"):
                        n += 1
                        await api.update(catalog.PODS, ready(p, f"10.244.0.{n}"), subresource="status")
                except (errors.Conflict, errors.NotFound):
                    pass  # changed or deleted since the list: the next pass sees it as it is now
            await asyncio.sleep(0.02)
    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


async def _deployment_now(api: InMemoryAPI) -> dict:
    d = await api.object(catalog.DEPLOYMENTS, "web", "default")
    assert d is not None
    return d


async def _status(api: InMemoryAPI) -> dict:
    return (await _deployment_now(api)).get("status") or {}


async def _rses(api: InMemoryAPI) -> list[dict]:
    return sorted(await api.objects(catalog.REPLICASETS, "default"), key=du.revision_of)


async def _complete(api: InMemoryAPI, replicas: int) -> bool:
    s = await _status(api)
    return (s.get("updatedReplicas") == replicas and s.get("availableReplicas") == replicas
            and s.get("replicas") == replicas)


async def _change(api: InMemoryAPI, edit) -> None:  # type: ignore[no-untyped-def]
    """Edit the Deployment as a user would: read, change, write (CAS on its resourceVersion),
    again on a conflict with the controller's status writes (client-go RetryOnConflict)."""
    for _ in range(10):
        d = await _deployment_now(api)
        edit(d)
        try:
            await api.update(catalog.DEPLOYMENTS, d)
            return
        except errors.Conflict:
            continue
    raise AssertionError("the Deployment kept changing under every edit")


async def test_rollout_creates_a_hashed_replicaset_and_reports_available() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            d = await api.seed(catalog.DEPLOYMENTS, _deployment(3))
            await eventually(lambda: _complete(api, 3))
        [rs] = await _rses(api)
        pod_hash = du.compute_hash(d["spec"]["template"])
        assert meta.name(rs) == f"web-{pod_hash}" and meta.labels(rs)["pod-template-hash"] == pod_hash
        assert meta.annotations(rs)[du.REVISION] == "1"
        status = await _status(api)
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
        assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
        assert conditions["Progressing"]["message"] == f'ReplicaSet "web-{pod_hash}" has successfully progressed.'
        assert status["observedGeneration"] == 1


async def test_rolling_update_respects_max_surge_and_keeps_history() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            await api.seed(catalog.DEPLOYMENTS, _deployment(4))
            await eventually(lambda: _complete(api, 4))
            peak[0] = 0
            await _change(api, lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.26"))

            async def rolled() -> bool:
                rses = await _rses(api)
                return (len(rses) == 2 and du.replicas_of(rses[0]) == 0 and await _complete(api, 4)
                        and (await _status(api)).get("observedGeneration") == 2)
            await eventually(rolled, timeout=10)
        _, new = await _rses(api)
        assert meta.annotations(new)[du.REVISION] == "2"
        assert meta.annotations(await _deployment_now(api))[du.REVISION] == "2"
        assert peak[0] <= 5  # 4 replicas + maxSurge 25% (rounded up to 1)


async def test_recreate_scales_old_to_zero_before_the_new_one() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            await api.seed(catalog.DEPLOYMENTS, _deployment(2, {"type": "Recreate"}))
            await eventually(lambda: _complete(api, 2))
            peak[0] = 0
            await _change(api, lambda d: d["spec"]["template"]["metadata"]["labels"].update(v="2"))

            async def recreated() -> bool:
                return len(await _rses(api)) == 2 and await _complete(api, 2)
            await eventually(recreated, timeout=10)
        assert peak[0] <= 2  # never old and new pods side by side


async def test_history_beyond_revision_history_limit_is_deleted() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            dep = _deployment(1)
            dep["spec"]["revisionHistoryLimit"] = 1
            await api.seed(catalog.DEPLOYMENTS, dep)

            async def observed() -> bool:
                d = await _deployment_now(api)
                return (d.get("status") or {}).get("observedGeneration") == meta.generation(d)

            async def two_kept() -> bool:
                return await _complete(api, 1) and len(await _rses(api)) == 2

            for image in ("nginx:2", "nginx:3"):
                await eventually(lambda: _complete(api, 1))
                await _change(api, lambda d, i=image: d["spec"]["template"]["spec"]["containers"][0].update(image=i))
                await eventually(observed)
            await eventually(two_kept, timeout=10)
        assert [meta.annotations(rs)[du.REVISION] for rs in await _rses(api)] == ["2", "3"]


async def test_scaling_a_stable_deployment_down_and_up() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        peak = [0]
        async with kubelet(api, peak):
            await api.seed(catalog.DEPLOYMENTS, _deployment(3))
            await eventually(lambda: _complete(api, 3))
            for replicas in (1, 4):
                await _change(api, lambda d, r=replicas: d["spec"].update(replicas=r))

                async def scaled(r: int = replicas) -> bool:
                    live = [p for p in await api.objects(catalog.PODS, "default") if not meta.is_deleting(p)]
                    return await _complete(api, r) and len(live) == r
                await eventually(scaled)
        [rs] = await _rses(api)
        assert meta.annotations(rs)[du.DESIRED_REPLICAS] == "4"


async def test_change_cause_reaches_each_revisions_replicaset_for_rollout_history() -> None:
    async with running(DeploymentController, ReplicaSetController) as (api, _):
        d = _deployment(1)
        d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first",
                                        "kubectl.kubernetes.io/last-applied-configuration": "{}"}
        await api.seed(catalog.DEPLOYMENTS, d)

        async def causes() -> list[str | None]:
            return [meta.annotations(rs).get("kubernetes.io/change-cause") for rs in await _rses(api)]
        await eventually(lambda: _first_is(causes, ["first"]), 5, "revision 1's cause")

        def second(dep: dict) -> None:
            dep["metadata"]["annotations"]["kubernetes.io/change-cause"] = "second"
            dep["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
        await _change(api, second)
        await eventually(lambda: _first_is(causes, ["first", "second"]), 5, "each revision keeps its cause")
        [rs1, _] = await _rses(api)
        assert "kubectl.kubernetes.io/last-applied-configuration" not in meta.annotations(rs1)

        await _change(api, lambda dep: dep["metadata"]["annotations"].update(
            {"kubernetes.io/change-cause": "annotated later"}))  # no new revision: the current RS follows
        await eventually(lambda: _first_is(causes, ["first", "annotated later"]), 5, "the current RS's cause")


async def _first_is(get, want) -> bool:  # type: ignore[no-untyped-def]
    return bool(await get() == want)
