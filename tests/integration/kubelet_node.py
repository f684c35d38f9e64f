"""A real kubelet on real containerd, registered with the test API server and serving its API,
running the given pods: what the logs and streaming tests drive through kubectl."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.kubelet.cri.runtime import CRIError
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.kubelet.volumes.manager import unmount_below
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess
from tests.integration.test_kubelet_containerd import Containerd
from tests.support import eventually, free_port


def pod(name: str, node: str, image: str, command: list[str], **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent", "command": command,
                **container}]}}


async def status_when(client: Client, name: str, check: Callable[[dict[str, Any]], bool], timeout: float,
                      what: str) -> dict[str, Any]:
    """The status of pod `name` (namespace default) once `check(status)` holds."""
    async def probe() -> dict[str, Any] | None:
        status = (await client.get(catalog.PODS, name, "default")).get("status") or {}
        return status if check(status) else None
    found: dict[str, Any] = await eventually(probe, timeout=timeout, what=what)
    return found


async def remove_sandbox(rt: RemoteRuntime, sandbox_id: str, attempts: int = 20) -> None:
    """Remove a sandbox; a container the cancelled kubelet was still starting holds it a moment."""
    for attempt in range(attempts):
        try:
            await rt.remove_pod_sandbox(sandbox_id)
            return
        except CRIError:
            if attempt == attempts - 1:
                raise
            with contextlib.suppress(CRIError):
                await rt.stop_pod_sandbox(sandbox_id)
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def kubelet_node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path, prefix: str,
                       pods: list[dict[str, Any]], running: tuple[str, ...], **overrides: Any) -> AsyncIterator[str]:
    """Yields the node name once the `running` pods run; removes pods, containers and the node after.
    `overrides` are further KubeletSettings fields."""
    name = f"{prefix}-{containerd.bridge}"
    settings = KubeletSettings(node_name=name, node_ip="127.0.0.1", root_dir=str(tmp_path),
                               container_runtime_endpoint=containerd.endpoint, cni_conf_dir=str(tmp_path / "net.d"),
                               healthz_port=0, address="127.0.0.1", port=free_port(),
                               client_ca_file=str(apiserver.pki_dir / "ca.crt"),
                               node_status_update_frequency=1.0, pod_cidr_routes=False, **overrides)
    config = load_kubeconfig(str(apiserver.kubeconfig))
    kubelet = asyncio.create_task(run(settings, client_config=config))
    async with Client(config) as client:
        try:
            await eventually(lambda: client.get(catalog.NODES, name), timeout=30, what="node registration")
            await client.patch(catalog.NODES, name, {"spec": {"podCIDR": containerd.subnet}})
            for p in pods:
                p["spec"]["nodeName"] = name
                await client.create(catalog.PODS, p)
            for p in running:
                async def is_running(n: str = p) -> bool:
                    got = await client.get(catalog.PODS, n, "default")
                    return (got.get("status") or {}).get("phase") == "Running"
                await eventually(is_running, timeout=60, what=f"{p} Running")
            yield name
        finally:
            names = [p["metadata"]["name"] for p in pods]
            with contextlib.suppress(errors.APIError, OSError):  # pods a test created on the node itself go too
                bound = await client.list(catalog.PODS, "default", field_selector=f"spec.nodeName={name}")
                names += [p["metadata"]["name"] for p in bound["items"] if p["metadata"]["name"] not in names]
            for n in names:
                with contextlib.suppress(errors.NotFound, errors.Conflict):  # the cleanup below must run
                    await client.delete(catalog.PODS, n, "default", grace_period_seconds=0)
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            async with RemoteRuntime(containerd.endpoint) as rt:
                for n in names:
                    for sandbox in await rt.list_pod_sandbox({lbl.POD_NAME: n}):
                        # the kubelet may have been stopping it too: removal still takes it all
                        with contextlib.suppress(CRIError):
                            await rt.stop_pod_sandbox(sandbox.id)
                        await remove_sandbox(rt, sandbox.id)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.NODES, name)
            await unmount_below(tmp_path)  # Memory emptyDirs of pods the stopped kubelet did not clean up
