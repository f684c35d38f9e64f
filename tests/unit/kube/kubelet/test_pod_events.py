"""The Events the kubelet records while it runs a pod, with upstream's reasons and texts."""

from __future__ import annotations

from typing import Any

from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.events import PodEvents, go_duration
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts

from .conftest import Clock, make_pod


class Recorded:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.events]


def syncer_with(runtime: FakeRuntime, clock: Clock) -> tuple[PodSyncer, Recorded]:
    recorded = Recorded()
    return PodSyncer(runtime, NodeFacts("w1", "192.168.56.21"), clock=clock, events=PodEvents(recorded)), recorded


async def test_a_started_pod_tells_pulled_created_started(runtime: FakeRuntime, clock: Clock) -> None:
    syncer, recorded = syncer_with(runtime, clock)
    await syncer.sync(make_pod())
    assert recorded.events == [
        ("Normal", "Pulled", 'Container image "busybox:1.36" already present on machine'),
        ("Normal", "Created", "Created container: app"),
        ("Normal", "Started", "Started container app")]


async def test_a_pull_tells_pulling_then_pulled_with_its_time(runtime: FakeRuntime, clock: Clock) -> None:
    syncer, recorded = syncer_with(runtime, clock)
    await syncer.sync(make_pod(image="nginx:1.27"))
    assert recorded.reasons()[:2] == ["Pulling", "Pulled"]
    assert recorded.events[0][2] == 'Pulling image "nginx:1.27"'
    assert recorded.events[1][2].startswith('Successfully pulled image "nginx:1.27" in ')
    assert recorded.events[1][2].endswith("including waiting). Image size: 1 bytes.")


async def test_a_failed_pull_then_its_back_off(runtime: FakeRuntime, clock: Clock) -> None:
    runtime.pullable = False
    syncer, recorded = syncer_with(runtime, clock)
    pod = make_pod(image="nope:1")
    await syncer.sync(pod)
    assert recorded.events[1:] == [
        ("Warning", "Failed", 'Failed to pull image "nope:1": failed to pull and unpack image "nope:1": not found'),
        ("Warning", "Failed", "Error: ErrImagePull")]
    await syncer.sync(pod)  # within the back-off
    assert recorded.events[-2:] == [("Normal", "BackOff", 'Back-off pulling image "nope:1"'),
                                    ("Warning", "Failed", "Error: ImagePullBackOff")]


async def test_a_crash_loop_tells_back_off_and_a_deletion_killing(runtime: FakeRuntime, clock: Clock) -> None:
    syncer, recorded = syncer_with(runtime, clock)
    pod = make_pod()
    for _ in range(2):
        await syncer.sync(pod)
        [running] = runtime.running("app")
        runtime.exit_container(running.id, 1)
    await syncer.sync(pod)
    assert recorded.events[-1] == ("Warning", "BackOff",
                                   "Back-off restarting failed container app in pod web_default(uid-web)")
    clock.advance(10)
    await syncer.sync(pod)
    await syncer.kill("uid-web", 30, pod)
    assert recorded.events[-1] == ("Normal", "Killing", "Stopping container app")


def test_durations_read_as_go_prints_them() -> None:
    assert go_duration(1.5) == "1.5s"
    assert go_duration(0.5234) == "523.4ms"
    assert go_duration(75.25) == "1m15.25s"
