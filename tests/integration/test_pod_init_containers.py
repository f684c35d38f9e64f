"""Init containers and a sidecar on a real kubelet and containerd: the init container prepares a
shared emptyDir before the app starts, the sidecar runs beside the app, and a Never pod whose
init container fails ends Failed, shown by kubectl as upstream's `Init:Error`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[Client]:  # noqa: F811
    image = f"{containerd.registry}/busybox:test"
    shared = [{"name": "work", "mountPath": "/work"}]
    app = pod("inits", "", image, ["/bin/sh", "-c", "cat /work/prepared; sleep 3600"], volumeMounts=shared)
    app["spec"]["volumes"] = [{"name": "work", "emptyDir": {}}]
    app["spec"]["initContainers"] = [
        {"name": "prepare", "image": image, "command": ["/bin/sh", "-c", "echo by-init > /work/prepared"],
         "volumeMounts": shared},
        {"name": "sidecar", "image": image, "restartPolicy": "Always", "volumeMounts": shared,
         "command": ["/bin/sh", "-c", "touch /work/sidecar-was-here; sleep 3600"]}]
    broken = pod("broken-init", "", image, ["/bin/sleep", "3600"])
    broken["spec"]["restartPolicy"] = "Never"
    broken["spec"]["initContainers"] = [{"name": "fails", "image": image, "command": ["/bin/sh", "-c", "exit 3"]}]
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async with kubelet_node(containerd, apiserver, tmp_path, "kt-init", [app, broken], running=("inits",)):
            yield client


async def test_init_containers_prepare_and_the_sidecar_runs_beside_the_app(node: Client, kubectl: Kubectl) -> None:
    got = await node.get(catalog.PODS, "inits", "default")
    prepare, sidecar = got["status"]["initContainerStatuses"]
    assert prepare["state"]["terminated"]["reason"] == "Completed" and prepare["ready"]
    assert "running" in sidecar["state"] and sidecar["started"]
    assert {c["type"]: c["status"] for c in got["status"]["conditions"]}["Initialized"] == "True"
    logs = await asyncio.to_thread(kubectl, 33, "logs", "inits")
    assert logs.stdout == "by-init\n", logs.stderr
    out = await asyncio.to_thread(kubectl, 33, "exec", "inits", "-c", "sidecar", "--", "sh", "-c", "echo /work/*")
    assert out.stdout.split() == ["/work/prepared", "/work/sidecar-was-here"], out.stderr

    async def ready() -> str:
        listed = await asyncio.to_thread(kubectl, 33, "get", "pod", "inits", "--no-headers")
        return listed.stdout.split()[1] if "2/2" in listed.stdout else ""
    assert await eventually(ready, timeout=20, what="2/2 ready (app and sidecar)") == "2/2"


async def test_a_failed_init_container_fails_a_never_pod(node: Client, kubectl: Kubectl) -> None:
    async def failed() -> bool:
        got = await node.get(catalog.PODS, "broken-init", "default")
        return (got.get("status") or {}).get("phase") == "Failed"
    await eventually(failed, timeout=30, what="broken-init Failed")
    listed = await asyncio.to_thread(kubectl, 33, "get", "pod", "broken-init", "--no-headers")
    assert listed.stdout.split()[1:3] == ["0/1", "Init:Error"], listed.stdout
    got = await node.get(catalog.PODS, "broken-init", "default")
    assert got["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    assert got["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
