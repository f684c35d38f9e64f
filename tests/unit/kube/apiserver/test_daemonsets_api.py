"""apps/v1 DaemonSets and ControllerRevisions through the API: defaults, 422s, tables."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.strategies.apps import CONTROLLER_REVISIONS, DAEMONSETS
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog, errors
from tests.unit.kube.controllers.test_daemonset import daemonset


async def test_defaults_and_upstreams_refusals() -> None:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        stored = await client.create(catalog.DAEMONSETS, daemonset(), "default")
        assert stored["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
        assert stored["spec"]["revisionHistoryLimit"] == 10 and stored["metadata"]["generation"] == 1
        bad = daemonset()
        bad["metadata"]["name"] = "bad"
        bad["spec"]["template"]["spec"]["restartPolicy"] = "Never"
        bad["spec"]["updateStrategy"] = {"type": "Sometimes"}
        with pytest.raises(errors.Invalid) as exc:
            await client.create(catalog.DAEMONSETS, bad, "default")
        assert [(c.field, c.message) for c in exc.value.causes] == [
            ("spec.template.spec.restartPolicy", 'Unsupported value: "Never": supported values: "Always"'),
            ("spec.updateStrategy.type", 'Unsupported value: "Sometimes": supported values: "OnDelete", '
                                         '"RollingUpdate"')]
        moved = {**stored, "spec": {**stored["spec"], "selector": {"matchLabels": {"app": "other"}}}}
        with pytest.raises(errors.Invalid):
            await client.update(catalog.DAEMONSETS, moved)


def test_the_tables_read_as_kubectl_get() -> None:
    assert [c["name"] for c in DAEMONSETS.columns()][:8] == [
        "Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"]
    row = DAEMONSETS.row({**daemonset(), "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                                                    "numberReady": 1, "updatedNumberScheduled": 2,
                                                    "numberAvailable": 1}})
    assert row[:7] == ["agent", 2, 2, 1, 2, 1, "<none>"]
    cr = {"metadata": {"name": "agent-abc", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u", "controller": True}]},
        "revision": 3}
    assert [c["name"] for c in CONTROLLER_REVISIONS.columns()] == ["Name", "Controller", "Revision", "Age"]
    assert CONTROLLER_REVISIONS.row(cr)[:3] == ["agent-abc", "daemonset.apps/agent", 3]
