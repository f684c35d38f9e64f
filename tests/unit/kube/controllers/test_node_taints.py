"""TaintNodesByCondition: conditions and cordoning as NoSchedule taints, others' taints kept."""

from __future__ import annotations

from typing import Any

from lab.kube.controllers.node_taints import NodeTaintController, taints_for
from lab.kube.machinery import catalog, errors
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def node(conditions: dict[str, str], unschedulable: bool = False, taints: list[dict[str, Any]] | None = None,
         ) -> dict[str, Any]:
    spec: dict[str, Any] = {"unschedulable": True} if unschedulable else {}
    if taints:
        spec["taints"] = taints
    return {"metadata": {"name": "w1"}, "spec": spec,
            "status": {"conditions": [{"type": t, "status": s} for t, s in conditions.items()]}}


def keys(taints: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    return sorted((t["key"], t["effect"]) for t in taints or [])


def test_conditions_map_to_upstreams_taint_keys() -> None:
    assert taints_for(node({"Ready": "True", "MemoryPressure": "False"}), "t") is None
    out = taints_for(node({"Ready": "False", "DiskPressure": "True", "PIDPressure": "True"}, unschedulable=True), "t")
    assert keys(out) == [("node.kubernetes.io/disk-pressure", "NoSchedule"),
                         ("node.kubernetes.io/not-ready", "NoSchedule"),
                         ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                         ("node.kubernetes.io/unschedulable", "NoSchedule")]
    assert all(t["timeAdded"] == "t" for t in out or [])
    assert keys(taints_for(node({"Ready": "Unknown"}), "t")) == [("node.kubernetes.io/unreachable", "NoSchedule")]


def test_only_the_managed_no_schedule_taints_change() -> None:
    theirs = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
              {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
              {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule", "timeAdded": "old"}]
    out = taints_for(node({"Ready": "True"}, taints=theirs), "t")
    assert out == theirs[:2]  # recovered: only our NoSchedule one goes, the NoExecute is another pass's


async def test_cordon_taints_and_uncordon_untaints() -> None:
    async with running(NodeTaintController) as (api, _):
        await api.seed(catalog.NODES, node({"Ready": "True"}))

        async def edit(unschedulable: bool) -> None:
            for _ in range(10):
                current = await api.object(catalog.NODES, "w1")
                assert current is not None
                current["spec"]["unschedulable"] = unschedulable
                try:
                    await api.update(catalog.NODES, current)
                    return
                except errors.Conflict:
                    continue

        async def taint_keys() -> list[tuple[str, str]]:
            got = await api.object(catalog.NODES, "w1") or {}
            return keys((got.get("spec") or {}).get("taints"))
        await edit(True)  # kubectl cordon
        await eventually(lambda: _eq(taint_keys, [("node.kubernetes.io/unschedulable", "NoSchedule")]), 5, "taint")
        await edit(False)  # kubectl uncordon
        await eventually(lambda: _eq(taint_keys, []), 5, "the taint gone")


async def _eq(get, want) -> bool:  # type: ignore[no-untyped-def]
    return bool(await get() == want)
