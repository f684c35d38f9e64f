"""`kubectl drain` on the lab: w1 is cordoned and its pods evicted through the policy/v1
eviction subresource, one at a time as their PodDisruptionBudget allows (kubectl retries the
429s), and the Deployment's pods come back on w2; `kubectl uncordon` makes w1 schedulable again."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.labdriver import Lab
from tests.e2e.test_walking_skeleton import web_image

pytestmark = pytest.mark.e2e
NS = "drain"


def deployment(image: str) -> dict[str, Any]:
    prefer_w1 = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["w1"]}]}}]}
    labels = {"app": "kept"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kept", "namespace": NS},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"affinity": {"nodeAffinity": prefer_w1}, "terminationGracePeriodSeconds": 2,
                         "containers": [{"name": "web", "image": image,
                                         "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 2}}]}}}}


def budget() -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "kept", "namespace": NS},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "kept"}}}}


def test_drain_evicts_through_the_budget_and_the_pods_move(lab: Lab) -> None:
    lab.kubectl("delete", "namespace", NS, "--ignore-not-found", "--timeout=150s", timeout=180)
    lab.kubectl("create", "namespace", NS)
    lab.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                      "items": [deployment(web_image(lab)), budget()]}))
    lab.kubectl("-n", NS, "rollout", "status", "deployment/kept", "--timeout=120s", timeout=150)
    lab.wait("the budget allowing one disruption",
             lambda: lab.get_json("-n", NS, "pdb", "kept")["status"].get("disruptionsAllowed") == 1, timeout=60)
    row = lab.kubectl("-n", NS, "get", "pdb", "kept", "--no-headers").stdout.split()
    assert row[:4] == ["kept", "1", "N/A", "1"], row
    try:
        drained = lab.kubectl("drain", "w1", "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                              "--timeout=180s", minor=33, timeout=210)
        assert "node/w1 drained" in drained.stdout, drained.stdout + drained.stderr
        pods = lab.get_json("-n", NS, "pods", "-l", "app=kept")["items"]
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        assert len(live) == 2 and {p["spec"].get("nodeName") for p in live} == {"w2"}, [
            (p["metadata"]["name"], p["spec"].get("nodeName")) for p in pods]
        assert lab.get_json("node", "w1")["spec"].get("unschedulable") is True
    finally:
        lab.kubectl("uncordon", "w1", minor=27)
    assert not lab.get_json("node", "w1")["spec"].get("unschedulable")
    lab.kubectl("delete", "namespace", NS, "--timeout=150s", timeout=180)
