"""Container log rotation (upstream's container log manager): rename at max size, reopen, gzip
the older rotated files, keep containerLogMaxFiles in all, undo the rename when reopen fails."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.cri.runtime import CRIError
from lab.kube.kubelet.log_rotation import ContainerLogManager


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)  # each rotation gets its own timestamp
        return self.now


async def running_container(rt: FakeRuntime, log_path: Path) -> str:
    rt.add_image("busybox")
    sandbox = await rt.run_pod_sandbox(pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name="p", uid="u")))
    config = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="c"), image=pb.ImageSpec(image="busybox"),
                                log_path=str(log_path))
    cid = await rt.create_container(sandbox, config, pb.PodSandboxConfig())
    await rt.start_container(cid)
    return cid


def write(path: Path, size: int, char: bytes = b"x") -> None:
    path.write_bytes(char * size)


async def test_a_log_is_rotated_once_it_reaches_the_max_size(tmp_path: Path) -> None:
    rt, live = FakeRuntime(), tmp_path / "0.log"
    cid = await running_container(rt, live)
    manager = ContainerLogManager(rt, max_size=100, max_files=3, now=Clock())
    write(live, 99)
    await manager.rotate_all()
    assert sorted(os.listdir(tmp_path)) == ["0.log"] and ("ReopenContainerLog", cid) not in rt.calls
    write(live, 100, b"a")
    await manager.rotate_all()
    assert sorted(os.listdir(tmp_path)) == ["0.log.20260102-030406"]  # the runtime makes the new 0.log
    assert ("ReopenContainerLog", cid) in rt.calls
    # the next rotation compresses the one before
    write(live, 150, b"b")
    await manager.rotate_all()
    assert sorted(os.listdir(tmp_path)) == ["0.log.20260102-030406.gz", "0.log.20260102-030407"]
    assert gzip.decompress((tmp_path / "0.log.20260102-030406.gz").read_bytes()) == b"a" * 100
    # max_files 3: the live file, the newest rotated one and one compressed: the oldest goes
    write(live, 100, b"c")
    await manager.rotate_all()
    assert sorted(os.listdir(tmp_path)) == ["0.log.20260102-030407.gz", "0.log.20260102-030408"]


async def test_leftovers_of_an_interrupted_compression_are_cleaned(tmp_path: Path) -> None:
    rt, live = FakeRuntime(), tmp_path / "0.log"
    cid = await running_container(rt, live)
    (tmp_path / "0.log.20250101-000000.gz").write_bytes(gzip.compress(b"old"))
    (tmp_path / "0.log.20250101-000000").write_bytes(b"old")       # compressed already
    (tmp_path / "0.log.20250101-000001.tmp").write_bytes(b"half")  # half-written
    write(live, 10)
    assert await ContainerLogManager(rt, max_size=10, max_files=5, now=Clock()).rotate(cid, str(live))
    assert sorted(os.listdir(tmp_path)) == ["0.log.20250101-000000.gz", "0.log.20260102-030406"]


async def test_a_failed_reopen_gives_the_log_its_name_back(tmp_path: Path) -> None:
    rt, live = FakeRuntime(), tmp_path / "0.log"
    cid = await running_container(rt, live)
    write(live, 10)
    rt.fail_next("ReopenContainerLog")
    with pytest.raises(CRIError):
        await ContainerLogManager(rt, max_size=10, max_files=5, now=Clock()).rotate(cid, str(live))
    assert os.listdir(tmp_path) == ["0.log"]


async def test_exited_containers_are_left_alone_and_a_removed_log_is_reopened(tmp_path: Path) -> None:
    rt = FakeRuntime()
    gone = await running_container(rt, tmp_path / "missing.log")
    done = await running_container(rt, tmp_path / "done.log")
    write(tmp_path / "done.log", 1000)
    rt.exit_container(done)
    await ContainerLogManager(rt, max_size=10, max_files=5, now=Clock()).rotate_all()
    assert ("ReopenContainerLog", gone) in rt.calls and ("ReopenContainerLog", done) not in rt.calls
    assert sorted(os.listdir(tmp_path)) == ["done.log"]


def test_fewer_than_two_files_is_refused() -> None:
    with pytest.raises(ValueError, match="larger than 1"):
        ContainerLogManager(FakeRuntime(), max_files=1)
