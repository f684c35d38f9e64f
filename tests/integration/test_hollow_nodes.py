"""Hollow mode: 50 hollow kubelets in this process against the real API server register 50 Ready
Nodes with their Leases, run the pods bound to them (each its own address) and finish their
deletions, with nothing touched on the host."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet.hollow import run_hollow
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess
from tests.support import eventually

pytestmark = pytest.mark.integration
NODES, PODS = 50, 100


@pytest.fixture
async def hollow(apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[Client]:
    config = load_kubeconfig(str(apiserver.kubeconfig))
    base = KubeletSettings(node_name="hollow", node_status_update_frequency=10.0)
    task = asyncio.create_task(run_hollow(base, NODES, tmp_path, client_config=config))
    async with Client(config) as client:
        try:
            yield client
        finally:
            for i in range(PODS):
                with contextlib.suppress(errors.NotFound):
                    await client.delete(catalog.PODS, f"h{i}", "default", grace_period_seconds=0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            for i in range(NODES):
                with contextlib.suppress(errors.NotFound):
                    await client.delete(catalog.NODES, f"hollow-{i}")


def ready_nodes(listed: dict[str, Any]) -> list[str]:
    return [n["metadata"]["name"] for n in listed["items"] if n["metadata"]["name"].startswith("hollow-")
            and any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions") or [])]


async def test_fifty_hollow_nodes_register_and_run_pods(hollow: Client) -> None:
    async def all_ready() -> bool:
        return len(ready_nodes(await hollow.list(catalog.NODES))) == NODES
    await eventually(all_ready, timeout=120, what=f"{NODES} hollow nodes Ready")
    async def all_leases() -> bool:
        leases = await hollow.list(catalog.LEASES, "kube-node-lease")
        return {f"hollow-{i}" for i in range(NODES)} <= {lease["metadata"]["name"] for lease in leases["items"]}
    await eventually(all_leases, timeout=60, what="a Lease per hollow node")
    node = await hollow.get(catalog.NODES, "hollow-7")
    assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "10.255.0.7"}

    for i in range(PODS):
        await hollow.create(catalog.PODS, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"h{i}", "namespace": "default"},
            "spec": {"nodeName": f"hollow-{i % NODES}", "containers": [{"name": "app", "image": "web:1"}]}})

    async def all_running() -> list[dict[str, Any]] | None:
        pods = [p for p in (await hollow.list(catalog.PODS, "default"))["items"] if p["metadata"]["name"][:1] == "h"]
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return running if len(running) == PODS else None
    running = await eventually(all_running, timeout=120, what=f"{PODS} pods Running on hollow nodes")
    assert len({p["status"]["podIP"] for p in running}) == PODS
    on_7 = [p for p in running if p["spec"]["nodeName"] == "hollow-7"]
    assert len(on_7) == 2 and all(p["status"]["podIP"].startswith("10.64.7.") for p in on_7)

    for i in range(0, PODS, 10):  # a graceful deletion each kubelet must finish
        await hollow.delete(catalog.PODS, f"h{i}", "default")

    async def deleted() -> bool:
        names = {p["metadata"]["name"] for p in (await hollow.list(catalog.PODS, "default"))["items"]}
        return not names & {f"h{i}" for i in range(0, PODS, 10)}
    await eventually(deleted, timeout=60, what="the deleted pods gone")
