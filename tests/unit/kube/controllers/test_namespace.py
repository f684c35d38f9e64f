"""Namespace deletion: content of every kind removed, upstream's conditions while something
remains, then the `kubernetes` finalizer removed and the namespace gone."""

from __future__ import annotations

from typing import Any

from lab.kube.controllers.namespace import Deletion, NamespaceController, conditions, pod_estimate
from lab.kube.machinery import catalog
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def by_type(ns: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in ns["status"].get("conditions") or []}


async def test_a_deleted_namespace_loses_its_content_then_goes() -> None:
    async with running(NamespaceController) as (api, _):
        await api.seed(catalog.NAMESPACES, {"metadata": {"name": "team"}})
        await api.seed(catalog.CONFIGMAPS, {"metadata": {"name": "c", "namespace": "team"}, "data": {"a": "b"}})
        await api.seed(catalog.SECRETS, {"metadata": {"name": "s", "namespace": "team"}})
        await api.seed(catalog.SERVICEACCOUNTS, {"metadata": {"name": "bot", "namespace": "team"}})
        await api.seed(catalog.DEPLOYMENTS, {"metadata": {"name": "d", "namespace": "team"}, "spec": {
            "selector": {"matchLabels": {"app": "d"}}, "template": {
                "metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}})
        await api.seed(catalog.NAMESPACES, {"metadata": {"name": "other"}})
        await api.seed(catalog.CONFIGMAPS, {"metadata": {"name": "keep", "namespace": "other"}})
        await api.delete(catalog.NAMESPACES, "team")
        await eventually(lambda: _gone(api, "team"), 10, "the namespace gone")
        for res, name in ((catalog.CONFIGMAPS, "c"), (catalog.SECRETS, "s"), (catalog.SERVICEACCOUNTS, "bot"),
                          (catalog.DEPLOYMENTS, "d")):
            assert await api.object(res, name, "team") is None
        assert await api.object(catalog.CONFIGMAPS, "keep", "other") is not None


async def _gone(api: Any, name: str) -> bool:
    return await api.object(catalog.NAMESPACES, name) is None


async def test_content_held_by_a_finalizer_keeps_the_namespace_with_upstreams_conditions() -> None:
    async with running(NamespaceController) as (api, _):
        await api.seed(catalog.NAMESPACES, {"metadata": {"name": "held"}})
        await api.seed(catalog.CONFIGMAPS, {"metadata": {"name": "c", "namespace": "held",
                                                         "finalizers": ["example.com/hold"]}})
        await api.delete(catalog.NAMESPACES, "held")

        async def reported() -> dict[str, Any] | None:
            ns = await api.object(catalog.NAMESPACES, "held")
            conds = by_type(ns or {"status": {}})
            return conds if conds.get("NamespaceFinalizersRemaining", {}).get("status") == "True" else None
        conds = await eventually(reported, 10, "the finalizer reported")
        assert conds["NamespaceContentRemaining"]["message"] == (
            "Some resources are remaining: configmaps. has 1 resource instances")
        assert conds["NamespaceFinalizersRemaining"]["message"] == (
            "Some finalizers are remaining: example.com/hold in 1 resource instances")
        assert conds["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
        assert conds["NamespaceDeletionDiscoveryFailure"]["message"] == "All resources successfully discovered"
        cm = await api.object(catalog.CONFIGMAPS, "c", "held")
        assert cm is not None and cm["metadata"].get("deletionTimestamp")
        cm["metadata"]["finalizers"] = []
        del cm["metadata"]["resourceVersion"]
        await api.update(catalog.CONFIGMAPS, cm)  # the finalizer's owner lets go
        await eventually(lambda: _gone(api, "held"), 30, "the namespace gone once the finalizer went")


def test_conditions_keep_transition_times_and_say_ok_when_all_is_well() -> None:
    first = conditions([], Deletion(remaining={"pods.": 2}), "t1")
    assert [c["type"] for c in first] == ["NamespaceDeletionDiscoveryFailure",
                                          "NamespaceDeletionGroupVersionParsingFailure",
                                          "NamespaceDeletionContentFailure", "NamespaceContentRemaining",
                                          "NamespaceFinalizersRemaining"]
    assert by_type({"status": {"conditions": first}})["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: pods. has 2 resource instances")
    later = by_type({"status": {"conditions": conditions(first, Deletion(), "t2")}})
    assert later["NamespaceContentRemaining"] == {"type": "NamespaceContentRemaining", "status": "False",
                                                  "lastTransitionTime": "t2", "reason": "ContentRemoved",
                                                  "message": "All content successfully removed"}
    assert later["NamespaceDeletionContentFailure"]["lastTransitionTime"] == "t1"  # False all along
    failed = by_type({"status": {"conditions": conditions([], Deletion(failures=["b: x", "a: y"]), "t")}})
    assert failed["NamespaceDeletionContentFailure"]["message"] == (
        "Failed to delete all resource types, 2 remaining: a: y, b: x")


def test_the_pod_estimate_is_the_longest_grace_left() -> None:
    pods = [{"metadata": {"deletionGracePeriodSeconds": 5}, "spec": {}, "status": {}},
            {"metadata": {}, "spec": {"terminationGracePeriodSeconds": 12}, "status": {}},
            {"metadata": {}, "spec": {"terminationGracePeriodSeconds": 99}, "status": {"phase": "Succeeded"}}]
    assert pod_estimate(pods) == 12 and pod_estimate([]) == 0
