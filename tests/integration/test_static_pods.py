"""Static pods on a real kubelet and containerd: a manifest in staticPodPath runs and shows up as
a mirror pod; deleting the mirror brings it back without touching the container; a changed
manifest replaces both; a removed one takes both away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.kubelet_node import kubelet_node
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration


def manifest(image: str, seconds: int) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  terminationGracePeriodSeconds: 1\n"
            f"  containers:\n  - name: web\n    image: {image}\n    imagePullPolicy: IfNotPresent\n"
            f"    command: [/bin/sleep, \"{seconds}\"]\n")


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess,  # noqa: F811
               tmp_path: Path) -> AsyncIterator[tuple[Client, str, Path, str]]:
    image = f"{containerd.registry}/busybox:test"
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "web.yaml").write_text(manifest(image, 3600))
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async with kubelet_node(containerd, apiserver, tmp_path, "kt-static", [], running=(),
                                static_pod_path=str(manifests), file_check_frequency=2.0) as name:
            yield client, name, manifests, image


async def running_mirror(client: Client, name: str, not_uid: str = "") -> dict[str, Any] | None:
    try:
        got = await client.get(catalog.PODS, name, "default")
    except errors.NotFound:
        return None
    ok = got["status"].get("phase") == "Running" and meta_uid(got) != not_uid and not got["metadata"].get(
        "deletionTimestamp")
    return got if ok else None


def meta_uid(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["uid"])


async def test_a_static_pod_runs_with_its_mirror(node: tuple[Client, str, Path, str], kubectl: Kubectl) -> None:
    client, node_name, manifests, image = node
    name = f"static-web-{node_name}"
    mirror = await eventually(lambda: running_mirror(client, name), timeout=60, what="the mirror pod Running")
    annotations = mirror["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    container = mirror["status"]["containerStatuses"][0]["containerID"]

    out = await asyncio.to_thread(kubectl, 33, "delete", "pod", name, "--wait=false")
    assert out.returncode == 0, out.stderr
    again = await eventually(lambda: running_mirror(client, name, not_uid=meta_uid(mirror)), timeout=60,
                             what="the mirror pod back")
    assert again["status"]["containerStatuses"][0]["containerID"] == container  # the static pod ran on

    (manifests / "web.yaml").write_text(manifest(image, 1800))

    async def replaced() -> dict[str, Any] | None:
        got = await running_mirror(client, name)
        if got is None or got["metadata"]["annotations"]["kubernetes.io/config.hash"] == \
                annotations["kubernetes.io/config.hash"]:
            return None
        return got if got["status"]["containerStatuses"][0]["containerID"] != container else None
    changed = await eventually(replaced, timeout=90, what="the changed manifest running")
    assert changed["spec"]["containers"][0]["command"] == ["/bin/sleep", "1800"]

    (manifests / "web.yaml").unlink()

    async def gone() -> bool:
        try:
            await client.get(catalog.PODS, name, "default")
        except errors.NotFound:
            return True
        return False
    await eventually(gone, timeout=60, what="the mirror pod gone with its manifest")
