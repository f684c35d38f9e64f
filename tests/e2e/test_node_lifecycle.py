"""Node lifecycle on the lab, with upstream's default timings (40 s grace, 5 s monitor period):
w2's kubelet stops, the node goes Unknown and gets the unreachable taints, its pods that
tolerate them for 5 s are evicted and replaced on w1; the kubelet comes back, the taints go
and the evicted pods finish terminating."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.labdriver import Lab
from tests.e2e.test_walking_skeleton import web_image

pytestmark = pytest.mark.e2e
NS = "lifecycle"
UNREACHABLE = "node.kubernetes.io/unreachable"


def drifting_deployment(image: str) -> dict[str, Any]:
    """Two replicas that prefer w2 and tolerate losing their node for only 5 s."""
    prefer_w2 = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "preference": {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["w2"]}]}}]}
    tolerations = [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
                   for key in (UNREACHABLE, "node.kubernetes.io/not-ready")]
    labels = {"app": "drift"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "drift", "namespace": NS},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"affinity": {"nodeAffinity": prefer_w2}, "tolerations": tolerations,
                         "terminationGracePeriodSeconds": 5,
                         "containers": [{"name": "web", "image": image}]}}}}


def drift_pods(lab: Lab) -> list[dict[str, Any]]:
    return list(lab.get_json("-n", NS, "pods", "-l", "app=drift")["items"])


def taints(lab: Lab, node: str) -> list[str]:
    spec = lab.get_json("node", node).get("spec") or {}
    return sorted(f"{t['key']}:{t['effect']}" for t in spec.get("taints") or [])


def ready_status(lab: Lab, node: str) -> str:
    conditions = lab.get_json("node", node)["status"]["conditions"]
    return str({c["type"]: c for c in conditions}["Ready"]["status"])


def test_a_node_whose_kubelet_stops_is_tainted_and_its_pods_move(lab: Lab) -> None:
    lab.kubectl("delete", "namespace", NS, "--ignore-not-found", "--timeout=150s", timeout=180)  # a rerun
    lab.kubectl("create", "namespace", NS)
    try:
        lab.kubectl("apply", "-f", "-", stdin=json.dumps(drifting_deployment(web_image(lab))))
        lab.kubectl("-n", NS, "rollout", "status", "deployment/drift", "--timeout=120s", timeout=150)
        on_w2 = {p["metadata"]["name"] for p in drift_pods(lab) if p["spec"].get("nodeName") == "w2"}
        assert on_w2, "the pods prefer w2"

        lab.ssh("w2", "sudo systemctl stop kubelet")
        lab.wait("w2 Unknown with both unreachable taints",
                 lambda: ready_status(lab, "w2") == "Unknown"
                 and taints(lab, "w2") == [f"{UNREACHABLE}:NoExecute", f"{UNREACHABLE}:NoSchedule"],
                 timeout=120, interval=2)

        def moved() -> list[dict[str, Any]] | None:
            pods = drift_pods(lab)
            live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
            evicted = [p for p in pods if p["metadata"]["name"] in on_w2 and p["metadata"].get("deletionTimestamp")]
            ready = [p for p in live if p["spec"].get("nodeName") == "w1" and any(
                c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])]
            return evicted if len(evicted) == len(on_w2) and len(ready) == 2 else None

        evicted = lab.wait("w2's pods evicted and two replicas Ready on w1", moved, timeout=90, interval=2)
        for pod in evicted:
            target = {c["type"]: c for c in pod["status"]["conditions"]}.get("DisruptionTarget") or {}
            assert target.get("reason") == "DeletionByTaintManager", pod["status"]
        events = [e.get("message", "") for e in lab.get_json("-n", NS, "events")["items"]
                  if e.get("reason") == "TaintManagerEviction"]
        assert {f"Marking for deletion Pod {NS}/{name}" for name in on_w2} <= set(events), events
    finally:
        lab.ssh("w2", "sudo systemctl start kubelet")
    lab.wait("w2 Ready again without taints",
             lambda: ready_status(lab, "w2") == "True" and taints(lab, "w2") == [], timeout=120, interval=2)
    lab.wait("the evicted pods gone once w2's kubelet stopped them",
             lambda: not on_w2 & {p["metadata"]["name"] for p in drift_pods(lab)}, timeout=90, interval=2)
    lab.kubectl("delete", "namespace", NS, "--timeout=150s", timeout=180)
