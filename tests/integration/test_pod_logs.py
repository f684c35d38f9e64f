"""`kubectl logs` end to end on one node: real kubectl 1.27 and 1.33 → the real API server's
pods/log → over TLS with its kubelet client certificate → the real kubelet's /containerLogs →
the CRI log files real containerd writes. Options (--tail, --timestamps, --limit-bytes,
--since, -f, --previous) and upstream's refusals."""

from __future__ import annotations

import asyncio
import contextlib
import re
import select
import time
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration
MINORS = (27, 33)
TALKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done"


def pod(name: str, node: str, image: str, script: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["/bin/sh", "-c", script]}]}}


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> Any:  # noqa: F811
    """A kubelet serving its API on a free port, with two pods: `talker` and `crasher`."""
    name = f"kt-logs-{containerd.bridge}"
    settings = KubeletSettings(node_name=name, node_ip="127.0.0.1", root_dir=str(tmp_path),
                               container_runtime_endpoint=containerd.endpoint, cni_conf_dir=str(tmp_path / "net.d"),
                               healthz_port=0, address="127.0.0.1", port=free_port(),
                               client_ca_file=str(apiserver.pki_dir / "ca.crt"),
                               node_status_update_frequency=1.0, pod_cidr_routes=False)
    config = load_kubeconfig(str(apiserver.kubeconfig))
    kubelet = asyncio.create_task(run(settings, client_config=config))
    image = f"{containerd.registry}/busybox:test"
    async with Client(config) as client:
        try:
            await eventually(lambda: client.get(catalog.NODES, name), timeout=30, what="node registration")
            await client.patch(catalog.NODES, name, {"spec": {"podCIDR": containerd.subnet}})
            await client.create(catalog.PODS, pod("talker", name, image, TALKER))
            await client.create(catalog.PODS, pod("crasher", name, image, "echo crashed-once; exit 3"))

            async def running() -> bool:
                got = await client.get(catalog.PODS, "talker", "default")
                return (got.get("status") or {}).get("phase") == "Running"
            await eventually(running, timeout=60, what="talker Running")
            yield name
        finally:
            for p in ("talker", "crasher"):
                with contextlib.suppress(errors.NotFound):
                    await client.delete(catalog.PODS, p, "default", grace_period_seconds=0)
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            async with RemoteRuntime(containerd.endpoint) as rt:
                for p in ("talker", "crasher"):
                    for sandbox in await rt.list_pod_sandbox({lbl.POD_NAME: p}):
                        await rt.stop_pod_sandbox(sandbox.id)
                        await rt.remove_pod_sandbox(sandbox.id)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.NODES, name)


async def logs(kubectl: Kubectl, minor: int, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.to_thread(kubectl, minor, "logs", *args)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("minor", MINORS)
async def test_kubectl_logs_with_its_options(node: str, kubectl: Kubectl, minor: int) -> None:
    async def two_lines() -> str | None:
        code, out, _ = await logs(kubectl, minor, "talker")
        return out if code == 0 and out.count("\n") >= 2 else None
    out = await eventually(two_lines, timeout=20, what="two lines of log")
    assert out.startswith("line 0\nline 1\n"), out

    code, tail, err = await logs(kubectl, minor, "talker", "--tail=1")
    assert code == 0 and re.fullmatch(r"line \d+\n", tail), (tail, err)
    code, stamped, _ = await logs(kubectl, minor, "talker", "--timestamps", "--tail=2")
    assert code == 0 and len(stamped.splitlines()) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+", s) for s in stamped.splitlines())
    assert (await logs(kubectl, minor, "talker", "--limit-bytes=4"))[:2] == (0, "line")
    code, recent, _ = await logs(kubectl, minor, "talker", "--since=1h")
    assert code == 0 and recent.startswith("line 0\n")
    assert (await logs(kubectl, minor, "talker", "--since-time=2999-01-01T00:00:00Z"))[:2] == (0, "")


@pytest.mark.parametrize("minor", MINORS)
async def test_kubectl_logs_follow_streams_new_lines(node: str, kubectl: Kubectl, minor: int) -> None:
    proc = kubectl.popen(minor, "logs", "-f", "--tail=1", "talker")
    try:
        assert proc.stdout is not None
        seen: list[int] = []
        deadline = time.monotonic() + 20
        while len(seen) < 4 and time.monotonic() < deadline:
            ready, _, _ = await asyncio.to_thread(select.select, [proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
                assert line, f"logs -f ended: {proc.stderr.read() if proc.stderr else ''}"
                seen.append(int(line.split()[1]))
        assert len(seen) == 4 and seen == sorted(set(seen)), seen  # new lines, in order, as written
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("minor", MINORS)
async def test_kubectl_logs_previous_and_refusals(node: str, apiserver: APIServerProcess, kubectl: Kubectl,
                                                  minor: int) -> None:
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async def restarted() -> bool:
            got = await client.get(catalog.PODS, "crasher", "default")
            statuses = (got.get("status") or {}).get("containerStatuses") or [{}]
            return bool(statuses[0].get("restartCount", 0) >= 1 and statuses[0].get("lastState", {}).get("terminated"))
        await eventually(restarted, timeout=60, what="crasher restarted")
    assert await logs(kubectl, minor, "crasher", "--previous") == (0, "crashed-once\n", "")
    code, _, err = await logs(kubectl, minor, "talker", "--previous")
    assert code == 1 and err.strip() == (
        'Error from server (BadRequest): previous terminated container "main" in pod "talker" not found'), err
    code, _, err = await logs(kubectl, minor, "talker", "-c", "nope")
    assert code == 1 and "container nope is not valid for pod talker" in err, err
    code, _, err = await logs(kubectl, minor, "no-such-pod")
    assert code == 1 and 'pods "no-such-pod" not found' in err, err
