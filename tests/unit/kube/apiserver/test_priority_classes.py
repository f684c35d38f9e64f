"""PriorityClasses and the Priority admission, as upstream's: the built-in system classes, the
user ceiling, one global default, and pods getting their priority from their class."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.strategies.scheduling import PRIORITY_CLASSES
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog, errors


def pc(name: str, value: int, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, **extra}


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec}}


async def test_system_classes_exist_and_pods_get_their_class_priority() -> None:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        node = await client.get(catalog.PRIORITY_CLASSES, "system-node-critical")
        assert (node["value"], node["preemptionPolicy"]) == (2000001000, "PreemptLowerPriority")
        plain = await client.create(catalog.PODS, pod("plain"), "default")
        assert (plain["spec"]["priority"], plain["spec"]["preemptionPolicy"]) == (0, "PreemptLowerPriority")
        assert "priorityClassName" not in plain["spec"]
        critical = await client.create(catalog.PODS, pod("critical", priorityClassName="system-cluster-critical"),
                                       "default")
        assert critical["spec"]["priority"] == 2000000000
        await client.create(catalog.PRIORITY_CLASSES, pc("batch-low", 100, globalDefault=True,
                                                        preemptionPolicy="Never"))
        defaulted = await client.create(catalog.PODS, pod("defaulted"), "default")
        assert (defaulted["spec"]["priorityClassName"], defaulted["spec"]["priority"],
                defaulted["spec"]["preemptionPolicy"]) == ("batch-low", 100, "Never")

        with pytest.raises(errors.Forbidden, match='pods "lost" is forbidden: no PriorityClass with name nope was '
                                                   'found'):
            await client.create(catalog.PODS, pod("lost", priorityClassName="nope"), "default")
        with pytest.raises(errors.Forbidden, match=r"the integer value of priority \(7\) must not be provided in "
                                                   r"pod spec; priority admission controller computed 100"):
            await client.create(catalog.PODS, pod("own", priority=7), "default")
        with pytest.raises(errors.Forbidden, match=r"PriorityClass batch-low is already marked as default. Only one "
                                                   r"default can exist"):
            await client.create(catalog.PRIORITY_CLASSES, pc("another", 5, globalDefault=True))
        with pytest.raises(errors.Forbidden, match="deleting system priority classes is not allowed"):
            await client.delete(catalog.PRIORITY_CLASSES, "system-node-critical")


async def test_bad_priority_classes_get_upstreams_causes() -> None:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        for body, field, message in (
                (pc("huge", 2_000_000_000), "value",
                 "Forbidden: maximum allowed value of a user defined priority is 1000000000"),
                (pc("system-mine", 10), "metadata.name",
                 "Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
                 "error: system-mine is not a known system priority class"),
                (pc("odd", 1, preemptionPolicy="Sometimes"), "preemptionPolicy",
                 'Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"')):
            with pytest.raises(errors.Invalid) as exc:
                await client.create(catalog.PRIORITY_CLASSES, body)
            assert [(c.field, c.message) for c in exc.value.causes] == [(field, message)]
        stored = await client.create(catalog.PRIORITY_CLASSES, pc("fixed", 10))
        with pytest.raises(errors.Invalid) as exc:
            await client.update(catalog.PRIORITY_CLASSES, {**stored, "value": 11})
        assert [(c.field, c.message) for c in exc.value.causes] == [("value", "Forbidden: may not be changed in an "
                                                                              "update.")]


def test_the_table_reads_as_kubectl_get_priorityclasses() -> None:
    assert [c["name"] for c in PRIORITY_CLASSES.columns()] == ["Name", "Value", "Global-Default", "Age",
                                                               "PreemptionPolicy"]
    row = PRIORITY_CLASSES.row({"metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"}, "value": 5,
                                "preemptionPolicy": "Never"})
    assert row[:3] == ["x", 5, False] and row[4] == "Never"
