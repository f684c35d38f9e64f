"""configMap, secret, downwardAPI, emptyDir and hostPath volumes on a real directory: files with
upstream's modes and layout, upstream's FailedMount texts, read-only and read-write mounts."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import VolumeManager, VolumeNotReady
from lab.kube.kubelet.volumes.manager import check_host_path

from .conftest import Clock, FakeObjects, FakeTokenSource, make_pod


@pytest.fixture
def objects() -> FakeObjects:
    found = FakeObjects()
    found.add("configmaps", "app-config", data={"app.conf": "debug=true\n", "other": "x"})
    found.add("secrets", "creds", data={"password": "czNjcjN0"})
    return found


@pytest.fixture
def volumes(tmp_path: Path, objects: FakeObjects, clock: Clock) -> VolumeManager:
    return VolumeManager(tmp_path, TokenManager(FakeTokenSource(clock), clock=clock, jitter=lambda: 0.0), objects,
                         clock=clock)


def pod_with(volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    pod = make_pod(volumeMounts=mounts)
    pod["spec"]["volumes"] = volumes
    return pod


def vol_dir(tmp_path: Path, plugin: str, name: str) -> Path:
    return tmp_path / "pods/uid-web/volumes" / f"kubernetes.io~{plugin}" / name


async def test_configmap_secret_and_downward_volumes_hold_their_files(volumes, tmp_path):
    pod = pod_with([
        {"name": "cfg", "configMap": {"name": "app-config"}},
        {"name": "one", "configMap": {"name": "app-config", "items": [{"key": "app.conf", "path": "conf/app.conf"}],
                                      "defaultMode": 0o400}},
        {"name": "sec", "secret": {"secretName": "creds"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
    ], [{"name": "cfg", "mountPath": "/etc/app"}])
    await volumes.setup(pod)
    cfg = vol_dir(tmp_path, "configmap", "cfg")
    assert (cfg / "app.conf").read_text() == "debug=true\n" and os.readlink(cfg / "app.conf") == "..data/app.conf"
    assert stat.S_IMODE((cfg / "other").stat().st_mode) == 0o644
    one = vol_dir(tmp_path, "configmap", "one")
    assert sorted(os.listdir(one / "..data")) == ["conf"]
    assert stat.S_IMODE((one / "conf/app.conf").stat().st_mode) == 0o400
    assert (vol_dir(tmp_path, "secret", "sec") / "password").read_bytes() == b"s3cr3t"
    assert (vol_dir(tmp_path, "downward-api", "info") / "name").read_text() == "web"
    [mount] = volumes.mounts(pod, pod["spec"]["containers"][0])
    assert (mount.container_path, mount.host_path, mount.readonly) == ("/etc/app", str(cfg), True)


async def test_a_missing_configmap_or_key_is_upstreams_failed_mount(volumes):
    pod = pod_with([{"name": "cfg", "configMap": {"name": "nope"}},
                    {"name": "sec", "secret": {"secretName": "creds", "items": [{"key": "user", "path": "u"}]}},
                    {"name": "opt", "configMap": {"name": "absent", "optional": True}}], [])
    with pytest.raises(VolumeNotReady) as caught:
        await volumes.setup(pod)
    assert str(caught.value) == ('MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found; '
                                 'MountVolume.SetUp failed for volume "sec" : secret references non-existent '
                                 "secret key: user")


async def test_empty_dir_is_a_writable_directory_shared_by_the_pods_containers(volumes, tmp_path):
    pod = pod_with([{"name": "scratch", "emptyDir": {}}], [{"name": "scratch", "mountPath": "/scratch"}])
    await volumes.setup(pod)
    directory = vol_dir(tmp_path, "empty-dir", "scratch")
    assert directory.is_dir() and stat.S_IMODE(directory.stat().st_mode) == 0o777
    [mount] = volumes.mounts(pod, pod["spec"]["containers"][0])
    assert (mount.host_path, mount.readonly) == (str(directory), False)
    pod["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] = True
    assert volumes.mounts(pod, pod["spec"]["containers"][0])[0].readonly


async def test_host_path_types_are_checked_as_upstream(volumes, tmp_path):
    made = tmp_path / "made/here"
    pod = pod_with([{"name": "data", "hostPath": {"path": str(made), "type": "DirectoryOrCreate"}}],
                   [{"name": "data", "mountPath": "/data"}])
    await volumes.setup(pod)
    assert made.is_dir()
    assert volumes.mounts(pod, pod["spec"]["containers"][0])[0].host_path == str(made)
    (tmp_path / "afile").write_text("x")
    check_host_path(str(tmp_path / "afile"), "File")
    with pytest.raises(OSError, match=r"hostPath type check failed: .*afile is not a directory"):
        check_host_path(str(tmp_path / "afile"), "Directory")
    with pytest.raises(OSError, match=r"hostPath type check failed: .*missing is not a socket"):
        check_host_path(str(tmp_path / "missing"), "Socket")
    check_host_path(str(tmp_path / "new.txt"), "FileOrCreate")
    assert (tmp_path / "new.txt").is_file()
