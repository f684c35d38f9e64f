"""`kubectl debug` with an ephemeral container on a real kubelet: the pods/ephemeralcontainers
subresource takes it (and refuses what upstream refuses), the kubelet starts it once, in the
target container's PID namespace, and reports it in ephemeralContainerStatuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, Kubectl, kubectl_path
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually, run_in_pty

pytestmark = pytest.mark.integration


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess,  # noqa: F811
               tmp_path: Path) -> AsyncIterator[tuple[Client, str]]:
    image = f"{containerd.registry}/busybox:test"
    target = pod("target", "", image, ["/bin/sleep", "3600"])
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async with kubelet_node(containerd, apiserver, tmp_path, "kt-debug", [target], running=("target",)):
            yield client, image


async def ephemeral_state(client: Client, name: str) -> dict[str, Any] | None:
    got = await client.get(catalog.PODS, "target", "default")
    for s in (got.get("status") or {}).get("ephemeralContainerStatuses") or []:
        if s["name"] == name and ("running" in s["state"] or "terminated" in s["state"]):
            return dict(s["state"])
    return None


@pytest.mark.parametrize("minor", [27, 33])
async def test_kubectl_debug_joins_the_targets_processes(node: tuple[Client, str], kubectl: Kubectl,
                                                         minor: int) -> None:
    client, image = node
    name = f"dbg{minor}"
    out = await asyncio.to_thread(kubectl, minor, "debug", "target", f"--image={image}", "-c", name,
                                  "--target=main", "--", "/bin/sh", "-c", "cat /proc/1/cmdline; echo; sleep 2")
    assert out.returncode == 0, out.stderr
    await eventually(lambda: ephemeral_state(client, name), timeout=30, what=f"{name} started")
    logs = await eventually(lambda: _logs(kubectl, minor, name), timeout=20, what=f"{name} logs")
    assert logs.replace("\x00", " ").strip() == "/bin/sleep 3600"  # PID 1 is the target's process
    state = await eventually(lambda: _terminated(client, name), timeout=30, what=f"{name} finished")
    assert state["exitCode"] == 0
    got = await client.get(catalog.PODS, "target", "default")
    assert got["status"]["containerStatuses"][0]["restartCount"] == 0  # the target never noticed
    assert got["status"]["phase"] == "Running"


async def _logs(kubectl: Kubectl, minor: int, name: str) -> str:
    out = await asyncio.to_thread(kubectl, minor, "logs", "target", "-c", name)
    return str(out.stdout) if out.returncode == 0 and out.stdout.strip() else ""


async def _terminated(client: Client, name: str) -> dict[str, Any] | None:
    state = await ephemeral_state(client, name)
    return state["terminated"] if state and "terminated" in state else None


async def test_ephemeral_containers_are_only_added_and_only_with_what_they_may_have(
        node: tuple[Client, str]) -> None:
    client, image = node
    current = await client.get(catalog.PODS, "target", "default")
    good = {"name": "good", "image": image, "command": ["/bin/sleep", "1"]}
    current["spec"]["ephemeralContainers"] = [good]
    current = await client.update(catalog.PODS, current, subresource="ephemeralcontainers")
    assert current["spec"]["ephemeralContainers"][0]["terminationMessagePolicy"] == "File"  # defaulted
    bad = {"name": "bad", "image": image, "ports": [{"containerPort": 80}], "targetContainerName": "nope"}
    body = {**current, "spec": {**current["spec"], "ephemeralContainers": [*current["spec"]["ephemeralContainers"],
                                                                          bad]}}
    with pytest.raises(errors.Invalid) as caught:
        await client.update(catalog.PODS, body, subresource="ephemeralcontainers")
    message = str(caught.value)
    assert "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container" in message
    assert 'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"' in message
    body = {**current, "spec": {**current["spec"], "ephemeralContainers": []}}
    with pytest.raises(errors.Invalid, match='existing ephemeral containers "good" may not be removed'):
        await client.update(catalog.PODS, body, subresource="ephemeralcontainers")
    body = {**current, "spec": {**current["spec"], "activeDeadlineSeconds": 5}}
    body["spec"]["ephemeralContainers"] = [{**good, "image": "other:1"}]
    with pytest.raises(errors.Invalid, match="may not be changed"):
        await client.update(catalog.PODS, body, subresource="ephemeralcontainers")



@pytest.mark.parametrize("minor", [27, 33])
async def test_kubectl_debug_it_gives_a_shell_in_the_ephemeral_container(
        node: tuple[Client, str], apiserver: APIServerProcess, minor: int) -> None:
    _, image = node
    argv = [str(kubectl_path(minor)), "--kubeconfig", str(apiserver.kubeconfig), "debug", "-it", "target",
            f"--image={image}", "-c", f"sh{minor}", "--target=main", "--", "/bin/sh"]
    # stdin must stay open: containerd ends a non-stdinOnce attach when the client's stdin closes
    code, out = await asyncio.to_thread(run_in_pty, argv, b"echo got-$((6*7)); cat /proc/1/cmdline; echo; exit 3\n",
                                        b"got-42", 60)
    assert b"/bin/sleep" in out, out
    assert code == 0, out  # kubectl debug reports the session, not the shell's exit code
