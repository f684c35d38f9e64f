"""Lifecycle hooks and termination messages, as upstream's kubelet runs and reads them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet import termination_message
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts
from lab.kube.kubelet.runtime_state import read_pod
from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import VolumeManager

from .conftest import Clock, FakeObjects, FakeTokenSource, make_pod
from .test_pod_events import Recorded


def hooked(**lifecycle: Any) -> dict[str, Any]:
    return make_pod(lifecycle=lifecycle)


def calls(runtime: FakeRuntime, *methods: str) -> list[str]:
    return [f"{m} {arg}" for m, arg in runtime.calls if m in methods]


async def test_a_post_start_hook_runs_after_the_start(runtime: FakeRuntime, clock: Clock) -> None:
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock)
    await syncer.sync(hooked(postStart={"exec": {"command": ["sh", "-c", "echo hi > /ready"]}}))
    [c] = runtime.running("app")
    assert calls(runtime, "StartContainer", "ExecSync") == [f"StartContainer {c.id}",
                                                           f"ExecSync {c.id} sh -c echo hi > /ready"]


async def test_a_failed_post_start_hook_kills_the_container(runtime: FakeRuntime, clock: Clock) -> None:
    recorded = Recorded()
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, events=PodEvents(recorded))
    runtime.exec_results["false"] = pb.ExecSyncResponse(exit_code=1, stderr=b"nope")
    result = await syncer.sync(hooked(postStart={"exec": {"command": ["false"]}}))
    assert not runtime.running("app")
    message = ('Exec lifecycle hook ([false]) for Container "app" in Pod "web_default(uid-web)" failed - error: '
               "command 'false' exited with 1: nope, message: \"nope\"")
    assert result.waiting["app"].reason == "PostStartHookError"
    assert result.waiting["app"].message == message
    assert ("Warning", "FailedPostStartHook", message) in recorded.events
    assert ("Normal", "Killing", "FailedPostStartHook") in recorded.events


async def test_a_container_killed_for_its_post_start_hook_runs_its_pre_stop(runtime: FakeRuntime,
                                                                           clock: Clock) -> None:
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock)
    runtime.exec_results["false"] = pb.ExecSyncResponse(exit_code=1)
    await syncer.sync(hooked(postStart={"exec": {"command": ["false"]}},
                             preStop={"exec": {"command": ["nginx", "-s", "quit"]}}))
    assert [c.split()[0] + " " + " ".join(c.split()[2:]) for c in calls(runtime, "ExecSync", "StopContainer")] == [
        "ExecSync false", "ExecSync nginx -s quit", "StopContainer 30"]


async def test_pre_stop_runs_before_the_stop_and_takes_from_the_grace(runtime: FakeRuntime, clock: Clock) -> None:
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock)
    pod = hooked(preStop={"exec": {"command": ["nginx", "-s", "quit"]}})
    await syncer.sync(pod)
    [c] = runtime.running("app")
    await syncer.kill("uid-web", 30, pod)
    assert calls(runtime, "ExecSync", "StopContainer") == [f"ExecSync {c.id} nginx -s quit",
                                                          f"StopContainer {c.id} 30"]


async def test_a_sleeping_pre_stop_leaves_at_least_two_seconds(runtime: FakeRuntime, clock: Clock) -> None:
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock)
    pod = hooked(preStop={"sleep": {"seconds": 5}})
    await syncer.sync(pod)
    [c] = runtime.running("app")
    await syncer.kill("uid-web", 1, pod)  # the hook is cut at the grace period
    assert calls(runtime, "StopContainer") == [f"StopContainer {c.id} 2"]


async def test_a_failed_pre_stop_hook_is_an_event_and_the_container_still_stops(
        runtime: FakeRuntime, clock: Clock) -> None:
    recorded = Recorded()
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, events=PodEvents(recorded))
    pod = hooked(preStop={"httpGet": {"path": "/drain", "port": 1, "host": "127.0.0.1"}})
    await syncer.sync(pod)
    await syncer.kill("uid-web", 5, pod)
    [failure] = [m for _, r, m in recorded.events if r == "FailedPreStopHook"]
    assert failure.startswith('HTTP lifecycle hook (/drain) for Container "app" in Pod "web_default(uid-web)" '
                              'failed - error: Get "http://127.0.0.1:1/drain": ')
    assert not runtime.containers


async def test_the_termination_message_file_is_mounted_and_read_after_exit(
        runtime: FakeRuntime, clock: Clock, tmp_path: Path) -> None:
    volumes = VolumeManager(tmp_path, TokenManager(FakeTokenSource(clock)), FakeObjects(), clock=clock)
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, volumes=volumes)
    await syncer.sync(make_pod(terminationMessagePath="/dev/termination-log"))
    [c] = runtime.running("app")
    [mount] = [m for m in c.config.mounts if m.container_path == "/dev/termination-log"]
    assert mount.host_path == str(tmp_path / "pods" / "uid-web" / "containers" / "app" / "0")
    await asyncio.to_thread(Path(mount.host_path).write_text, "x" * 5000 + "disk full")
    runtime.exit_container(c.id, 1)
    [record] = (await read_pod(runtime, "uid-web")).containers
    assert record.message == ("x" * 5000 + "disk full")[-4096:]


def exited(tmp_path: Path, policy: str, exit_code: int, written: str = "") -> pb.ContainerStatus:
    host = tmp_path / "msg"
    host.write_text(written)
    log = tmp_path / "0.log"
    log.write_text("".join(f"2026-01-01T00:00:00.000000000Z stderr F line {i}\n" for i in range(100)))
    return pb.ContainerStatus(
        state=pb.CONTAINER_EXITED, exit_code=exit_code, log_path=str(log),
        annotations={lbl.TERMINATION_MESSAGE_PATH: "/dev/termination-log", lbl.TERMINATION_MESSAGE_POLICY: policy},
        mounts=[pb.Mount(container_path="/dev/termination-log", host_path=str(host))])


async def test_fallback_to_logs_on_error_takes_the_logs_tail_only_when_nothing_was_written(tmp_path: Path) -> None:
    tail = await termination_message.message(exited(tmp_path, "FallbackToLogsOnError", 2))
    assert tail.splitlines()[0] == "line 20" and tail.endswith("line 99\n")  # the last 80 lines
    assert await termination_message.message(exited(tmp_path, "FallbackToLogsOnError", 2, "oops")) == "oops"
    assert await termination_message.message(exited(tmp_path, "FallbackToLogsOnError", 0)) == ""
    assert await termination_message.message(exited(tmp_path, "File", 2)) == ""
