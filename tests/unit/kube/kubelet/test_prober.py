"""Probes: every kind against real endpoints or the fake runtime, thresholds, startup gating."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts
from lab.kube.kubelet.prober import ContainerProbes, ProbeManager, ProbeState, resolve_port, run_probe
from lab.kube.kubelet.runtime_state import read_pod
from tests.support import eventually, free_port

from .conftest import make_pod


async def serve(status: int) -> tuple[web.AppRunner, int]:
    async def handler(request: web.Request) -> web.Response:
        assert request.headers["User-Agent"] == "kube-probe/1.33"
        return web.Response(status=status, text="body")
    app = web.Application()
    app.router.add_get("/healthz", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


async def test_http_probe_counts_200_to_399_as_success() -> None:
    for status, ok in ((200, True), (302, True), (500, False)):
        runner, port = await serve(status)
        try:
            got = await run_probe(FakeRuntime(), {"httpGet": {"path": "/healthz", "port": "http"}},
                                  {"name": "c", "ports": [{"name": "http", "containerPort": port}]}, "", "127.0.0.1")
        finally:
            await runner.cleanup()
        assert got[0] is ok
        if not ok:
            assert got[1] == "HTTP probe failed with statuscode: 500"


async def test_tcp_and_exec_probes() -> None:
    assert (await run_probe(FakeRuntime(), {"tcpSocket": {"port": free_port()}}, {"name": "c"}, "", "127.0.0.1"))[0] \
        is False
    runtime = FakeRuntime()
    runtime.add_image("busybox:1.36")
    pod = make_pod()
    await PodSyncer(runtime, NodeFacts("w1")).sync(pod)
    [c] = runtime.running("app")
    runtime.exec_results["cat /tmp/healthy"] = pb.ExecSyncResponse(exit_code=1, stderr=b"cat: can't open\n")
    assert await run_probe(runtime, {"exec": {"command": ["cat", "/tmp/healthy"]}}, {"name": "app"}, c.id, "") == (
        False, "cat: can't open\n")
    assert (await run_probe(runtime, {"exec": {"command": ["true"]}}, {"name": "app"}, c.id, ""))[0]


def test_named_ports_must_exist() -> None:
    assert resolve_port(8080, {}) == 8080
    with pytest.raises(ValueError, match="couldn't find port: web in app"):
        resolve_port("web", {"name": "app", "ports": []})


class Recorded:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((reason, message))


async def test_readiness_flips_after_thresholds_and_liveness_asks_for_a_restart() -> None:
    runtime = FakeRuntime()
    runtime.add_image("busybox:1.36")
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 2}
    pod = make_pod(readinessProbe=dict(probe), livenessProbe={**probe, "exec": {"command": ["alive"]}})
    await PodSyncer(runtime, NodeFacts("w1")).sync(pod)
    [c] = runtime.running("app")
    queued: list[str] = []
    recorded = Recorded()
    manager = ProbeManager(runtime, queued.append, PodEvents(recorded))
    manager.update(pod, await read_pod(runtime, "uid-web"), "10.88.0.2")
    try:
        assert manager.ready("uid-web", "app", c.id) is False  # readiness starts failed
        await eventually(lambda: manager.ready("uid-web", "app", c.id), timeout=5, what="ready")
        assert queued == ["default/web"]
        runtime.exec_results["check"] = pb.ExecSyncResponse(exit_code=1, stdout=b"not yet")
        runtime.exec_results["alive"] = pb.ExecSyncResponse(exit_code=1)
        await eventually(lambda: not manager.ready("uid-web", "app", c.id), timeout=5, what="unready")
        assert ("Unhealthy", "Readiness probe failed: not yet") in recorded.events
        await eventually(lambda: manager.should_kill("uid-web", "app", c.id), timeout=5, what="liveness failure")
        assert manager.should_kill("uid-web", "app", c.id) == "Container app failed liveness probe, will be restarted"
    finally:
        manager.forget("uid-web")


def test_a_startup_probe_gates_readiness() -> None:
    manager = ProbeManager(FakeRuntime(), lambda key: None)
    manager._pods[("u", "app")] = ContainerProbes("cid", states={
        "startupProbe": ProbeState(passing=True), "readinessProbe": ProbeState(passing=True, successes=1)})
    assert not manager.started("u", "app", "cid") and not manager.ready("u", "app", "cid")
    manager._pods[("u", "app")].states["startupProbe"].successes = 1
    assert manager.started("u", "app", "cid") and manager.ready("u", "app", "cid")
    assert manager.ready("u", "other", "cid")  # no probes: ready once running
