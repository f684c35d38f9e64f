"""Node-pressure eviction on a real kubelet: with a memory threshold the node cannot meet, the
Node reports MemoryPressure, its allocatable leaves the reservations out, its images are listed,
and the pod most over its memory request is evicted as upstream reports it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog
from lab.kube.machinery.quantity import cpu_millis
from tests.integration.conftest import APIServerProcess
from tests.integration.kubelet_node import kubelet_node, pod, status_when
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess,  # noqa: F811
               tmp_path: Path) -> AsyncIterator[tuple[Client, str]]:
    image = f"{containerd.registry}/busybox:test"
    victim = pod("victim", "", image, ["/bin/sleep", "3600"])
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async with kubelet_node(containerd, apiserver, tmp_path, "kt-evict", [victim], running=(),
                                eviction_hard={"memory.available": "1000Ti"},  # more than any machine has
                                system_reserved={"cpu": "100m", "memory": "100Mi"}) as name:
            yield client, name


async def test_memory_pressure_evicts_the_pod(node: tuple[Client, str]) -> None:
    client, name = node

    status = await status_when(client, "victim", lambda s: s.get("reason") == "Evicted", 40, "victim Evicted")
    assert status["phase"] == "Failed"
    assert status["message"].startswith("The node was low on resource: memory. Threshold quantity: 1000Ti, "
                                        "available: ")
    [disruption] = [c for c in status["conditions"] if c["type"] == "DisruptionTarget"]
    assert (disruption["status"], disruption["reason"]) == ("True", "TerminationByKubelet")
    events = await client.list(catalog.EVENTS, "default")
    assert any(e["reason"] == "Evicted" and e["involvedObject"]["name"] == "victim" for e in events["items"])

    async def pressure() -> dict[str, Any] | None:
        got = await client.get(catalog.NODES, name)
        conds = {c["type"]: c for c in got["status"]["conditions"]}
        return got["status"] if conds["MemoryPressure"]["status"] == "True" else None
    node_status = await eventually(pressure, timeout=20, what="MemoryPressure on the node")
    conds = {c["type"]: c for c in node_status["conditions"]}
    assert conds["MemoryPressure"]["reason"] == "KubeletHasInsufficientMemory"
    assert node_status["allocatable"]["memory"] == "0"  # the threshold exceeds what there is
    assert cpu_millis(node_status["allocatable"]["cpu"]) == cpu_millis(node_status["capacity"]["cpu"]) - 100
    assert any(any("busybox:test" in n for n in i["names"]) for i in node_status["images"])
