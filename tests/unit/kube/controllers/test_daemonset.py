"""The DaemonSet controller: one pinned pod per fitting node with upstream's automatic
tolerations, ControllerRevisions, a rolling update one unavailable node at a time, and pods
removed from nodes that stop fitting."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers.daemonset import DaemonSetController, fit, should_run
from lab.kube.machinery import catalog, errors
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def daemonset(image: str = "agent:1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": image}]}}, **spec}}


def node(name: str, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or []}}


async def agents(api: InMemoryAPI) -> dict[str, dict[str, Any]]:
    """Live daemon pods by the node they are pinned to."""
    out = {}
    for p in await api.objects(catalog.PODS, "default"):
        if p["metadata"].get("deletionTimestamp"):
            continue
        term = p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"][0]
        out[term["matchFields"][0]["values"][0]] = p
    return out


async def make_ready(api: InMemoryAPI, pod: dict[str, Any]) -> None:
    for _ in range(10):
        current = await api.object(catalog.PODS, pod["metadata"]["name"], "default")
        if current is None:
            return
        current["status"] = {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
        try:
            await api.update(catalog.PODS, current, subresource="status")
            return
        except errors.Conflict:
            continue


def test_a_node_fits_by_selector_affinity_and_tolerated_taints() -> None:
    ds = daemonset()
    assert should_run(ds, node("w1", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]))
    assert not should_run(ds, node("cp1", taints=[{"key": "node-role.kubernetes.io/control-plane",
                                                   "effect": "NoSchedule"}]))
    picky = daemonset()
    picky["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert should_run(picky, node("w1", {"disk": "ssd"})) and not should_run(picky, node("w2"))
    # an untolerated NoSchedule taint keeps new pods away but lets a running one be; NoExecute does not
    assert fit(ds, node("w1", taints=[{"key": "dedicated", "effect": "NoSchedule"}])) == (False, True)
    assert fit(ds, node("w1", taints=[{"key": "dedicated", "effect": "NoExecute"}])) == (False, False)
    assert fit(picky, node("w2")) == (False, False)


async def test_one_pod_per_fitting_node_then_a_rolling_update() -> None:
    async def seed(api: InMemoryAPI) -> None:
        for n in (node("w1"), node("w2"), node("cp1", taints=[
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])):
            await api.seed(catalog.NODES, n)

    async with running(DaemonSetController, seed=seed) as (api, _):
        await api.seed(catalog.DAEMONSETS, daemonset())
        pods = await eventually(lambda: _nodes(agents(api), {"w1", "w2"}), 5, "a pod on each worker")
        pod = pods["w1"]
        keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        [revision] = await api.objects(catalog.CONTROLLER_REVISIONS, "default")
        assert revision["revision"] == 1
        assert pod["metadata"]["labels"]["controller-revision-hash"] == revision["metadata"]["labels"][
            "controller-revision-hash"]
        assert revision["data"]["spec"]["template"]["$patch"] == "replace"
        for p in pods.values():
            await make_ready(api, p)
        await eventually(lambda: _status(api, desiredNumberScheduled=2, numberReady=2, numberAvailable=2), 5,
                         "the status")

        current = await api.object(catalog.DAEMONSETS, "agent", "default")
        assert current is not None
        current["spec"]["template"]["spec"]["containers"][0]["image"] = "agent:2"
        await api.update(catalog.DAEMONSETS, current)
        seen_images: list[set[str]] = []
        for _ in range(2):  # one node at a time: never both old pods gone at once
            got = await eventually(lambda: _one_new(api), 5, "a node updated")
            seen_images.append({p["spec"]["containers"][0]["image"] for p in got.values()})
            for p in got.values():
                await make_ready(api, p)
        await eventually(lambda: _status(api, updatedNumberScheduled=2, numberAvailable=2), 5, "rolled out")
        assert seen_images[0] == {"agent:1", "agent:2"}
        revisions = sorted(r["revision"] for r in await api.objects(catalog.CONTROLLER_REVISIONS, "default"))
        assert revisions == [1, 2]

        w2 = await api.object(catalog.NODES, "w2")
        assert w2 is not None
        w2["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
        await api.update(catalog.NODES, w2)
        await eventually(lambda: _nodes(agents(api), {"w1"}), 5, "the pod gone from a node it no longer fits")


async def _nodes(pods: Any, want: set[str]) -> dict[str, dict[str, Any]] | None:
    got: dict[str, dict[str, Any]] = await pods
    return got if set(got) == want else None


async def _one_new(api: InMemoryAPI) -> dict[str, dict[str, Any]] | None:
    got = await agents(api)
    new = [p for p in got.values() if p["spec"]["containers"][0]["image"] == "agent:2"
           and not p.get("status", {}).get("conditions")]
    return got if len(got) == 2 and len(new) == 1 else None


async def _status(api: InMemoryAPI, **want: int) -> bool:
    ds = await api.object(catalog.DAEMONSETS, "agent", "default")
    status = (ds or {}).get("status") or {}
    return all(status.get(k) == v for k, v in want.items())
