"""The volume manager on a real directory: the ServiceAccount volume holds `token`, `ca.crt` and
`namespace` with the volume's modes; a pod waits while a source is missing, its token is
re-projected before it runs out, and its directory goes with the pod."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import VolumeManager, VolumeNotReady
from lab.kube.kubelet.volumes.manager import RESYNC_PERIOD

from .conftest import CA, MOUNT_PATH, Clock, FakeObjects, FakeTokenSource, sa_pod


@pytest.fixture
def source(clock: Clock) -> FakeTokenSource:
    return FakeTokenSource(clock)


@pytest.fixture
def objects() -> FakeObjects:
    found = FakeObjects()
    found.add("configmaps", "kube-root-ca.crt", data={"ca.crt": CA})
    return found


@pytest.fixture
def volumes(tmp_path: Path, source: FakeTokenSource, objects: FakeObjects, clock: Clock) -> VolumeManager:
    return VolumeManager(tmp_path, TokenManager(source, clock=clock, jitter=lambda: 0.0), objects, clock=clock)


def volume(tmp_path: Path) -> Path:
    return tmp_path / "pods/uid-web/volumes/kubernetes.io~projected/kube-api-access-x7k2p"


async def test_the_serviceaccount_volume_holds_token_ca_and_namespace_with_its_mode(volumes, tmp_path):
    await volumes.setup(sa_pod())

    directory = volume(tmp_path)
    assert (directory / "token").read_text() == "default-1"
    assert (directory / "ca.crt").read_text() == CA
    assert (directory / "namespace").read_text() == "default"
    for name in ("token", "ca.crt", "namespace"):
        assert os.readlink(directory / name) == f"..data/{name}"
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o644  # defaultMode 420
    assert stat.S_IMODE(directory.stat().st_mode) == 0o755


async def test_item_modes_and_other_sources_follow_the_pod(volumes, objects, tmp_path):
    objects.add("secrets", "creds", data={"password": "czNjcjN0"})
    pod = sa_pod()
    pod["metadata"]["labels"] = {"app": "web", "tier": "front"}
    pod["spec"]["volumes"][0]["projected"] = {"defaultMode": 0o440, "sources": [
        {"secret": {"name": "creds", "items": [{"key": "password", "path": "db/password", "mode": 0o400}]}},
        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"serviceAccountToken": {"path": "vault-token", "audience": "vault"}}]}
    await volumes.setup(pod)

    directory = volume(tmp_path)
    assert (directory / "db/password").read_text() == "s3cr3t"
    assert stat.S_IMODE((directory / "db/password").stat().st_mode) == 0o400
    assert (directory / "labels").read_text() == 'app="web"\ntier="front"'
    assert stat.S_IMODE((directory / "labels").stat().st_mode) == 0o440


async def test_a_missing_ca_configmap_keeps_the_pod_waiting_and_retries_back_off(volumes, objects, clock, tmp_path):
    del objects.objects[("configmaps", "default", "kube-root-ca.crt")]
    with pytest.raises(VolumeNotReady) as waiting:
        await volumes.setup(sa_pod())
    assert str(waiting.value) == ('MountVolume.SetUp failed for volume "kube-api-access-x7k2p" : '
                                  'configmap "kube-root-ca.crt" not found')
    assert waiting.value.retry_after == 0.5
    assert not volume(tmp_path).exists()  # nothing half-written

    objects.add("configmaps", "kube-root-ca.crt", data={"ca.crt": CA})
    with pytest.raises(VolumeNotReady):  # still within the back-off: not asked again yet
        await volumes.setup(sa_pod())
    clock.advance(0.5)
    await volumes.setup(sa_pod())
    assert (volume(tmp_path) / "ca.crt").read_text() == CA


async def test_the_token_is_re_projected_once_it_is_due_for_renewal(volumes, source, clock, tmp_path):
    issued = clock.now
    await volumes.setup(sa_pod())
    first = os.readlink(volume(tmp_path) / "..data")

    clock.now = issued + RESYNC_PERIOD * 10  # resyncs before renewal is due change nothing
    await volumes.setup(sa_pod())
    assert os.readlink(volume(tmp_path) / "..data") == first and len(source.requests) == 1

    clock.now = issued + 3607 * 0.8 + 1
    await volumes.setup(sa_pod())
    assert (volume(tmp_path) / "token").read_text() == "default-2"
    assert os.readlink(volume(tmp_path) / "..data") != first


async def test_a_failed_renewal_leaves_the_running_pod_its_last_files(volumes, objects, source, clock, tmp_path):
    await volumes.setup(sa_pod())
    del objects.objects[("configmaps", "default", "kube-root-ca.crt")]
    clock.advance(RESYNC_PERIOD)
    await volumes.setup(sa_pod())  # logged, not raised: the volume was set up once
    assert (volume(tmp_path) / "ca.crt").read_text() == CA


async def test_mounts_bind_the_volume_read_only_at_its_mount_path(volumes, tmp_path):
    pod = sa_pod()
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "scratch", "mountPath": "/tmp/x"})
    pod["spec"]["volumes"].append({"name": "scratch", "persistentVolumeClaim": {"claimName": "c"}})  # not served yet
    [mount] = volumes.mounts(pod, pod["spec"]["containers"][0])
    assert mount == pb.Mount(container_path=MOUNT_PATH, host_path=str(volume(tmp_path)), readonly=True,
                             selinux_relabel=False, propagation=pb.PROPAGATION_PRIVATE)


async def test_cleanup_removes_the_pods_directory_and_its_tokens(volumes, source, tmp_path):
    await volumes.setup(sa_pod())
    await volumes.cleanup("uid-web")
    assert not (tmp_path / "pods/uid-web").exists()
    await volumes.setup(sa_pod())
    assert len(source.requests) == 2  # a fresh token: the old one was forgotten with the pod


async def test_orphaned_pod_directories_are_removed_and_live_ones_kept(volumes, tmp_path):
    await volumes.setup(sa_pod())
    (tmp_path / "pods/uid-gone/volumes").mkdir(parents=True)
    await volumes.cleanup_orphans(lambda: {"uid-web"})
    assert sorted(p.name for p in (tmp_path / "pods").iterdir()) == ["uid-web"]
