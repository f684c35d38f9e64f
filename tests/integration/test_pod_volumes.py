"""Volumes inside a real container: a configMap and a secret as files (read-only), an emptyDir
shared and writable, a `medium: Memory` emptyDir on tmpfs, a hostPath created by its type, and a
pod naming a missing ConfigMap waiting in ContainerCreating with upstream's FailedMount event, and
a ConfigMap update reaching the running container's file."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[Path]:  # noqa: F811
    image = f"{containerd.registry}/busybox:test"
    host_dir = tmp_path / "host-data"
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        for res, name in ((catalog.CONFIGMAPS, "app-config"), (catalog.SECRETS, "creds")):
            with contextlib.suppress(errors.NotFound):  # left by the previous test
                await client.delete(res, name, "default")
        await client.create(catalog.CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "app-config", "namespace": "default"},
                                                 "data": {"app.conf": "debug=true\n"}}, "default")
        await client.create(catalog.SECRETS, {"apiVersion": "v1", "kind": "Secret",
                                              "metadata": {"name": "creds", "namespace": "default"},
                                              "data": {"password": "czNjcjN0"}}, "default")
    mounts = [{"name": "cfg", "mountPath": "/etc/app"}, {"name": "sec", "mountPath": "/etc/creds"},
              {"name": "scratch", "mountPath": "/scratch"}, {"name": "mem", "mountPath": "/mem"},
              {"name": "host", "mountPath": "/host"}]
    vols = [{"name": "cfg", "configMap": {"name": "app-config"}}, {"name": "sec", "secret": {"secretName": "creds"}},
            {"name": "scratch", "emptyDir": {}}, {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
            {"name": "host", "hostPath": {"path": str(host_dir), "type": "DirectoryOrCreate"}}]
    vol_pod = pod("vols", "", image, ["/bin/sh", "-c", "echo hi > /scratch/greeting; sleep 3600"], volumeMounts=mounts)
    vol_pod["spec"]["volumes"] = vols
    waiting = pod("waits", "", image, ["/bin/sleep", "3600"], volumeMounts=[{"name": "cfg", "mountPath": "/cfg"}])
    waiting["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "nope"}}]
    async with kubelet_node(containerd, apiserver, tmp_path, "kt-vol", [vol_pod, waiting], running=("vols",),
                            sync_frequency=2.0):
        yield host_dir


async def sh(kubectl: Kubectl, script: str, pod_name: str = "vols") -> tuple[int, str]:
    out = await asyncio.to_thread(kubectl, 33, "exec", pod_name, "--", "sh", "-c", script)
    return out.returncode, out.stdout + out.stderr


async def test_volumes_inside_the_container(node: Path, kubectl: Kubectl) -> None:
    assert await sh(kubectl, "read l < /etc/app/app.conf; echo $l") == (0, "debug=true\n")
    assert await sh(kubectl, "read l < /etc/creds/password; echo $l") == (0, "s3cr3t\n")
    code, out = await sh(kubectl, "echo x > /etc/app/new")
    assert code != 0 and "Read-only file system" in out, out
    assert await sh(kubectl, "read l < /scratch/greeting; echo $l; echo more > /scratch/b && echo ok") == (
        0, "hi\nok\n")
    code, out = await sh(kubectl, "while read dev point kind rest; do [ $point = /mem ] && echo $kind; done "
                                  "< /proc/mounts; true")
    assert (code, out) == (0, "tmpfs\n")
    assert await sh(kubectl, "echo from-pod > /host/file && echo ok") == (0, "ok\n")
    assert (node / "file").read_text() == "from-pod\n"


async def test_a_missing_configmap_keeps_the_pod_creating_with_a_failed_mount_event(
        node: Path, apiserver: APIServerProcess) -> None:
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async def failed_mount() -> str | None:
            events = await client.list(catalog.EVENTS, "default")
            return next((e["message"] for e in events["items"] if e["involvedObject"]["name"] == "waits"
                         and e["reason"] == "FailedMount"), None)
        message = await eventually(failed_mount, timeout=30, what="a FailedMount event")
        assert message == 'MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found'
        got = await client.get(catalog.PODS, "waits", "default")
        [status] = got["status"]["containerStatuses"]
        assert status["state"] == {"waiting": {"reason": "ContainerCreating"}}


async def test_a_configmap_update_reaches_the_running_container(node: Path, apiserver: APIServerProcess,
                                                                kubectl: Kubectl) -> None:
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        await client.patch(catalog.CONFIGMAPS, "app-config", {"data": {"app.conf": "debug=false\n"}}, "default")

    async def updated() -> bool:
        return await sh(kubectl, "read l < /etc/app/app.conf; echo $l") == (0, "debug=false\n")
    await eventually(updated, timeout=30, what="the new ConfigMap data in the mounted file")
    # upstream's atomic writer: the file is a link through ..data, swapped in one rename
    code, out = await sh(kubectl, "[ -L /etc/app/..data ] && [ -L /etc/app/app.conf ] && echo links")
    assert (code, out) == (0, "links\n")
