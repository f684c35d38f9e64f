"""PodSyncer with the volume manager: the CRI CreateContainer request binds the ServiceAccount
volume read-only; a pod whose token cannot be had yet gets no sandbox and stays
ContainerCreating until it can; a killed pod's files go with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.pod_status import pod_status
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import VolumeManager
from lab.kube.machinery import errors

from .conftest import CA, MOUNT_PATH, Clock, FakeObjects, FakeTokenSource, sa_pod


@pytest.fixture
def source(clock: Clock) -> FakeTokenSource:
    return FakeTokenSource(clock)


@pytest.fixture
def volumes(tmp_path: Path, source: FakeTokenSource, clock: Clock) -> VolumeManager:
    objects = FakeObjects()
    objects.add("configmaps", "kube-root-ca.crt", data={"ca.crt": CA})
    return VolumeManager(tmp_path, TokenManager(source, clock=clock, jitter=lambda: 0.0), objects, clock=clock)


@pytest.fixture
def syncer(runtime, node, clock, volumes) -> PodSyncer:  # type: ignore[no-untyped-def]
    return PodSyncer(runtime, node, clock=clock, volumes=volumes)


async def test_the_container_gets_the_volume_as_a_read_only_bind_mount(syncer, runtime, tmp_path):
    await syncer.sync(sa_pod())

    [container] = runtime.running("app")
    host = tmp_path / "pods/uid-web/volumes/kubernetes.io~projected/kube-api-access-x7k2p"
    expected = pb.Mount(container_path=MOUNT_PATH, host_path=str(host), readonly=True)
    assert list(container.config.mounts) == [expected]
    assert list((await runtime.container_status(container.id)).mounts) == [expected]
    assert (host / "token").read_text() == "default-1"


async def test_a_pod_without_its_token_stays_container_creating_then_starts(syncer, runtime, source, clock):
    source.failing = errors.NotFound('serviceaccounts "default" not found')
    pod = sa_pod()
    result = await syncer.sync(pod)

    assert not runtime.sandboxes and not [c for c in runtime.calls if c[0] == "RunPodSandbox"]
    assert result.requeue_after == 0.5
    status = pod_status(pod, result.runtime, result.waiting, "192.168.56.21", "containerd")
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}

    source.failing = None
    clock.advance(result.requeue_after)
    await syncer.sync(pod)
    assert len(runtime.running("app")) == 1


async def test_killing_the_pod_removes_its_directory(syncer, runtime, tmp_path):
    await syncer.sync(sa_pod())
    await syncer.kill("uid-web", grace=0)
    assert not runtime.containers and not (tmp_path / "pods/uid-web").exists()


async def test_a_finished_pod_asks_for_no_more_tokens(syncer, source):
    pod = sa_pod()
    pod["status"]["phase"] = "Succeeded"
    await syncer.sync(pod)
    assert source.requests == []
