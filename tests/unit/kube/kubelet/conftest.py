"""Shared arrangements for kubelet unit tests: a fake clock, a FakeRuntime, a fake TokenRequest
and a pod factory."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import Resource


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


class FakeTokenSource:
    """TokenRequest answered in memory: token `<sa>-<n>` valid for the asked lifetime from `clock`."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.failing: Exception | None = None

    async def create_token(self, namespace: str, service_account: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append((namespace, service_account, copy.deepcopy(request)))
        if self.failing is not None:
            raise self.failing
        seconds = request["spec"]["expirationSeconds"]
        expires = datetime.fromtimestamp(int(self.clock()) + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {**request, "status": {"token": f"{service_account}-{len(self.requests)}",
                                      "expirationTimestamp": expires}}


MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
TOKEN_SOURCE = {"defaultMode": 420, "sources": [
    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    {"downwardAPI": {"items": [{"path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
]}


class FakeObjects:
    """ConfigMaps and Secrets by (plural, namespace, name); NotFound otherwise."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, plural: str, name: str, **fields: Any) -> None:
        self.objects[(plural, "default", name)] = {"metadata": {"name": name, "namespace": "default"}, **fields}

    async def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self.objects[(resource.plural, namespace, name)]
        except KeyError:
            raise errors.NotFound(f'{resource.plural} "{name}" not found') from None


def sa_pod(**container: Any) -> dict[str, Any]:
    """A pod as ServiceAccount admission leaves it: the token volume, mounted by its container."""
    pod = make_pod(volumeMounts=[{"name": "kube-api-access-x7k2p", "readOnly": True, "mountPath": MOUNT_PATH}],
                   **container)
    pod["spec"].update(serviceAccountName="default",
                       volumes=[{"name": "kube-api-access-x7k2p", "projected": copy.deepcopy(TOKEN_SOURCE)}])
    return pod
