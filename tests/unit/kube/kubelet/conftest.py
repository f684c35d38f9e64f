"""Shared arrangements for kubelet unit tests: a fake clock, a FakeRuntime and a pod factory."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(clock: Clock) -> FakeRuntime:
    rt = FakeRuntime(clock=clock)
    rt.add_image("busybox:1.36")
    return rt


@pytest.fixture
def node() -> NodeFacts:
    return NodeFacts(node_name="w1", node_ip="192.168.56.21")


@pytest.fixture
def syncer(runtime: FakeRuntime, node: NodeFacts, clock: Clock) -> PodSyncer:
    return PodSyncer(runtime, node, clock=clock)


def make_pod(name: str = "web", uid: str = "uid-web", restart_policy: str = "Always",
             **container: Any) -> dict[str, Any]:
    c = {"name": "app", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
         "command": ["httpd", "-f", "-p", "8080"]}
    c.update(container)
    return copy.deepcopy({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "labels": {"app": name}},
        "spec": {"nodeName": "w1", "restartPolicy": restart_policy, "containers": [c]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True",
                                                       "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
