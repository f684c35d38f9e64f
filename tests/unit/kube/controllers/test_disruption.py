"""PodDisruptionBudgets: the disruption controller's status, and pods/eviction honouring it
(201 while disruptions are allowed, 429 with upstream's DisruptionBudget cause once not)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.strategies.policy import PDBS
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.controllers.disruption import DisruptionController
from lab.kube.machinery import catalog, errors
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def pdb(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


async def seed_replicas(api: InMemoryAPI, replicas: int, ready: int) -> list[dict[str, Any]]:
    rs = await api.seed(catalog.REPLICASETS, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": rs["metadata"]["uid"],
           "controller": True}
    pods = []
    for i in range(replicas):
        pods.append(await api.seed(catalog.PODS, {
            "metadata": {"name": f"web-{i}", "namespace": "default", "labels": {"app": "web"},
                         "ownerReferences": [ref]},
            "spec": {"nodeName": "w1", "containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True" if i < ready else "False"}]}}))
    return pods


async def pdb_status(api: InMemoryAPI, name: str, **want: Any) -> dict[str, Any] | None:
    got = await api.object(catalog.PDBS, name, "default")
    status = (got or {}).get("status") or {}
    return status if all(status.get(k) == v for k, v in want.items()) else None


async def evict(client: Client, name: str) -> Any:
    return await client.request("POST", catalog.PODS.path("default", name, "eviction"), body={
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "default"}})


async def test_evictions_go_while_the_budget_allows_and_get_429_after() -> None:
    async with running(DisruptionController) as (api, _), Client(api.config) as client:
        await seed_replicas(api, 3, ready=3)
        await api.seed(catalog.PDBS, pdb("web", minAvailable=2))
        status = await eventually(lambda: pdb_status(api, "web", disruptionsAllowed=1), 5, "one disruption allowed")
        assert (status["currentHealthy"], status["desiredHealthy"], status["expectedPods"]) == (3, 2, 3)
        assert {c["type"]: c for c in status["conditions"]}["DisruptionAllowed"]["reason"] == "SufficientPods"

        answer = await evict(client, "web-0")
        assert answer["status"] == "Success" and answer["code"] == 201
        gone = await api.object(catalog.PODS, "web-0", "default")
        assert gone is not None and gone["metadata"].get("deletionTimestamp")
        with pytest.raises(errors.TooManyRequests) as refused:
            await evict(client, "web-1")
        assert refused.value.message == "Cannot evict pod as it would violate the pod's disruption budget."
        [cause] = refused.value.causes
        assert cause.reason == "DisruptionBudget" and cause.message.startswith(
            "The disruption budget web needs 2 healthy pods and has ")
        status = await eventually(lambda: pdb_status(api, "web", currentHealthy=2, disruptionsAllowed=0), 5,
                                  "the evicted pod no longer healthy")
        assert {c["type"]: c for c in status["conditions"]}["DisruptionAllowed"]["reason"] == "InsufficientPods"
        assert "disruptedPods" not in status  # its deletion was seen


async def test_percentages_count_the_owners_replicas_and_unready_pods_go_freely() -> None:
    async with running(DisruptionController) as (api, _), Client(api.config) as client:
        await seed_replicas(api, 4, ready=3)
        await api.seed(catalog.PDBS, pdb("web", maxUnavailable="50%"))
        await eventually(lambda: pdb_status(api, "web", expectedPods=4, desiredHealthy=2, currentHealthy=3,
                                            disruptionsAllowed=1), 5, "the budget from 4 replicas")
        assert (await evict(client, "web-3"))["code"] == 201  # not ready, budget healthy: no disruption used
        status = await pdb_status(api, "web")
        assert status is not None and "disruptedPods" not in status


async def test_a_pod_without_a_budget_is_simply_deleted_and_bad_budgets_are_refused() -> None:
    async with InMemoryAPI() as api, Client(api.config) as client:
        await api.seed(catalog.PODS, {"metadata": {"name": "lone", "namespace": "default"},
                                      "spec": {"containers": [{"name": "c", "image": "x"}]},
                                      "status": {"phase": "Running"}})
        assert (await evict(client, "lone"))["code"] == 201
        with pytest.raises(errors.NotFound):
            await evict(client, "nobody")
        with pytest.raises(errors.Invalid) as bad:
            await client.create(catalog.PDBS, pdb("both", minAvailable=1, maxUnavailable=1), "default")
        assert [(c.field, c.message) for c in bad.value.causes] == [
            ("spec", bad.value.causes[0].message)] and "minAvailable and maxUnavailable cannot be both set" in \
            bad.value.causes[0].message


async def test_a_budget_with_neither_bound_allows_every_healthy_pod() -> None:
    async with running(DisruptionController) as (api, _):
        await seed_replicas(api, 2, ready=2)
        await api.seed(catalog.PDBS, pdb("web"))
        await eventually(lambda: pdb_status(api, "web", expectedPods=0, desiredHealthy=0, currentHealthy=2,
                                            disruptionsAllowed=2), 5, "two disruptions allowed")


def test_the_table_reads_as_kubectl_get_pdb() -> None:
    assert [c["name"] for c in PDBS.columns()] == ["Name", "Min Available", "Max Unavailable",
                                                   "Allowed Disruptions", "Age"]
    row = PDBS.row({"metadata": {"name": "web"}, "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}})
    assert row[:4] == ["web", "2", "N/A", 1]
