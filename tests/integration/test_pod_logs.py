"""`kubectl logs` end to end on one node: real kubectl 1.27 and 1.33 → the real API server's
pods/log → over TLS with its kubelet client certificate → the real kubelet's /containerLogs →
the CRI log files real containerd writes. Options (--tail, --timestamps, --limit-bytes,
--since, -f, --previous) and upstream's refusals."""

from __future__ import annotations

import asyncio
import re
import select
import time
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
MINORS = (27, 33)
TALKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done"


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[str]:  # noqa: F811
    """A kubelet with two pods: `talker` (a line every 0.3 s) and `crasher` (prints, exits 3, restarts)."""
    image = f"{containerd.registry}/busybox:test"
    pods = [pod("talker", "", image, ["/bin/sh", "-c", TALKER]),
            pod("crasher", "", image, ["/bin/sh", "-c", "echo crashed-once; exit 3"])]
    async with kubelet_node(containerd, apiserver, tmp_path, "kt-logs", pods, running=("talker",)) as name:
        yield name


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
