"""Probes on real containers: a readiness probe flips Ready both ways as a file comes and goes,
and a failing liveness probe restarts the container (restartCount, Unhealthy and Killing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration
HTTPD = ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[str]:  # noqa: F811
    image = f"{containerd.registry}/busybox:test"
    ready = pod("gated", "", image, HTTPD, readinessProbe={
        "exec": {"command": ["/bin/sh", "-c", "[ -f /tmp/ready ]"]}, "periodSeconds": 1})
    live = pod("sick", "", image, HTTPD, ports=[{"name": "http", "containerPort": 8080}], livenessProbe={
        "httpGet": {"path": "/missing", "port": "http"}, "periodSeconds": 1, "failureThreshold": 2})
    async with kubelet_node(containerd, apiserver, tmp_path, "kt-probe", [ready, live], running=("gated", "sick")) as n:
        yield n


async def status(client: Client, name: str) -> dict[str, Any]:
    return (await client.get(catalog.PODS, name, "default")).get("status") or {}


def condition(st: dict[str, Any], kind: str) -> str:
    return next((c["status"] for c in st.get("conditions") or [] if c["type"] == kind), "")


async def test_readiness_flips_ready_both_ways(node: str, apiserver: APIServerProcess, kubectl: Kubectl) -> None:
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        st = await status(client, "gated")
        assert condition(st, "Ready") == "False" and st["containerStatuses"][0]["ready"] is False
        await asyncio.to_thread(kubectl, 33, "exec", "gated", "--", "sh", "-c", ": > /tmp/ready")

        async def ready_is(value: str) -> bool:
            return condition(await status(client, "gated"), "Ready") == value
        await eventually(lambda: ready_is("True"), timeout=15, what="Ready after the probe passed")
        await asyncio.to_thread(kubectl, 33, "exec", "gated", "--", "sh", "-c", "rm /tmp/ready")
        await eventually(lambda: ready_is("False"), timeout=15, what="not Ready after three failures")
        assert (await status(client, "gated"))["containerStatuses"][0]["restartCount"] == 0  # never restarted


async def test_a_failing_liveness_probe_restarts_the_container(node: str, apiserver: APIServerProcess) -> None:
    async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
        async def restarted() -> bool:
            st = await status(client, "sick")
            return st["containerStatuses"][0]["restartCount"] >= 1
        await eventually(restarted, timeout=40, what="a restart after the liveness probe failed")
        events = [(e["reason"], e["message"]) for e in (await client.list(catalog.EVENTS, "default"))["items"]
                  if e["involvedObject"]["name"] == "sick"]
        assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404") in events
        assert ("Killing", "Container main failed liveness probe, will be restarted") in events
