"""The AtomicWriter: files land in a timestamped directory behind the `..data` symlink, with the
modes asked for; an update swaps `..data` in one rename and removes what the new payload dropped."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lab.kube.kubelet.volumes.atomic_writer import FileProjection, InvalidPayload, write


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_links_into_the_data_directory_with_their_modes(tmp_path: Path) -> None:
    umask = os.umask(0o077)  # the kubelet's umask must not decide what the container can read
    try:
        assert write(tmp_path, {"token": FileProjection(b"jwt", 0o644), "ca.crt": FileProjection(b"pem", 0o600),
                                "nested/dir/file": FileProjection(b"deep", 0o400)})
    finally:
        os.umask(umask)

    data = os.readlink(tmp_path / "..data")
    assert data.startswith("..") and (tmp_path / data).is_dir() and mode(tmp_path / data) == 0o755
    assert os.readlink(tmp_path / "token") == "..data/token"
    assert os.readlink(tmp_path / "nested") == "..data/nested"
    assert (tmp_path / "token").read_bytes() == b"jwt" and mode(tmp_path / "token") == 0o644
    assert mode(tmp_path / "ca.crt") == 0o600
    assert (tmp_path / "nested/dir/file").read_bytes() == b"deep" and mode(tmp_path / "nested/dir/file") == 0o400
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["..data", data, "token", "ca.crt", "nested"])


def test_an_update_swaps_the_data_link_and_drops_the_old_version(tmp_path: Path) -> None:
    write(tmp_path, {"token": FileProjection(b"one", 0o644), "gone": FileProjection(b"x", 0o644)})
    first = os.readlink(tmp_path / "..data")
    assert write(tmp_path, {"token": FileProjection(b"two", 0o644)})

    second = os.readlink(tmp_path / "..data")
    assert second != first and not (tmp_path / first).exists()
    assert (tmp_path / "token").read_bytes() == b"two"
    assert not os.path.lexists(tmp_path / "gone")
    assert not os.path.lexists(tmp_path / "..data_tmp")


def test_an_unchanged_payload_is_not_written_again(tmp_path: Path) -> None:
    payload = {"token": FileProjection(b"same", 0o644)}
    write(tmp_path, payload)
    before = os.readlink(tmp_path / "..data")
    assert write(tmp_path, payload) is False
    assert os.readlink(tmp_path / "..data") == before


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../escape", "a/../../b", "..hidden"])
def test_paths_that_leave_the_volume_or_hide_in_it_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(InvalidPayload):
        write(tmp_path, {path: FileProjection(b"x", 0o644)})
    assert list(tmp_path.iterdir()) == []
