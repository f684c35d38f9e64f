"""AtomicWriter (upstream `pkg/volume/util/atomic_writer.go`): project a set of files into a
volume directory so that a reader in the container sees either the old set or the new one,
never a mix.

The files live in a timestamped directory `..2026_01_02_15_04_05.<random>`; `..data` is a
symlink to it and each user-visible name (`token`) is a symlink into `..data`. An update
writes a new timestamped directory, points `..data_tmp` at it and renames that over `..data`
(rename(2) is atomic), then removes the old directory. Synchronous: callers run it in a thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DATA_DIR = "..data"
NEW_DATA_DIR = "..data_tmp"
MAX_PATH_LENGTH = 4096
MAX_FILE_NAME_LENGTH = 255


@dataclass(frozen=True)
class FileProjection:
    data: bytes
    mode: int


class InvalidPayload(ValueError):
    """A payload path is empty, absolute, escapes the volume or starts with `..`."""


def validate_path(path: str) -> str:
    """The cleaned relative path, or InvalidPayload (upstream `validatePath`)."""
    if not path:
        raise InvalidPayload(f"invalid path: must not be empty: {path!r}")
    if path.startswith("/"):
        raise InvalidPayload(f"invalid path: must be relative path: {path}")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPayload(f"invalid path: must be less than or equal to {MAX_PATH_LENGTH} characters")
    items = path.split("/")
    for item in items:
        if item == "..":
            raise InvalidPayload(f"invalid path: must not contain '..': {path}")
        if len(item) > MAX_FILE_NAME_LENGTH:
            raise InvalidPayload(f"invalid path: filenames must be less than or equal to "
                                 f"{MAX_FILE_NAME_LENGTH} characters")
    if items[0].startswith("..") and len(items[0]) > 2:
        raise InvalidPayload(f"invalid path: must not start with '..': {path}")
    return str(PurePosixPath(path))


def write(target: Path, payload: Mapping[str, FileProjection]) -> bool:
    """Project `payload` (relative path -> content and mode) into the existing directory
    `target`; True when something was written, False when the volume already held it."""
    clean = {validate_path(p): f for p, f in payload.items()}
    data_link = target / DATA_DIR
    old_dir = os.readlink(data_link) if data_link.is_symlink() else ""
    old_path = target / old_dir if old_dir else None
    to_remove: set[str] = set()
    if old_path is not None:
        to_remove = _paths_to_remove(clean, old_path)
        if not to_remove and not _changed(clean, old_path):
            return False
    new_dir = _new_timestamp_dir(target)
    try:
        _write_payload(clean, new_dir)
        os.chmod(new_dir, 0o755)  # others must traverse it; mkdtemp's 0700 kept it private while written
        _create_user_visible(target, clean)
        tmp_link = target / NEW_DATA_DIR
        tmp_link.unlink(missing_ok=True)  # left by a write that died between symlink and rename
        os.symlink(new_dir.name, tmp_link)
        os.rename(tmp_link, data_link)
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    for name in to_remove:
        if "/" not in name:  # only the volume root holds user-visible links
            (target / name).unlink(missing_ok=True)
    if old_path is not None:
        shutil.rmtree(old_path, ignore_errors=True)
    return True


def _changed(payload: Mapping[str, FileProjection], old_dir: Path) -> bool:
    for path, projection in payload.items():
        try:
            if (old_dir / path).read_bytes() != projection.data:
                return True
        except FileNotFoundError:
            return True
    return False


def _paths_to_remove(payload: Mapping[str, FileProjection], old_dir: Path) -> set[str]:
    """Paths in the old version that the new payload no longer has (parents of kept files stay)."""
    if not old_dir.is_dir():
        return set()
    old = {str(p.relative_to(old_dir)) for p in old_dir.rglob("*")}
    new: set[str] = set()
    for path in payload:
        parts = PurePosixPath(path).parts
        new.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return old - new


def _new_timestamp_dir(target: Path) -> Path:
    prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    return Path(tempfile.mkdtemp(prefix=prefix, dir=target))


def _write_payload(payload: Mapping[str, FileProjection], directory: Path) -> None:
    for path, projection in payload.items():
        full = directory / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(projection.data)
        os.chmod(full, projection.mode)  # the mode asked for, whatever the umask


def _create_user_visible(target: Path, payload: Mapping[str, FileProjection]) -> None:
    for path in payload:
        top = path.split("/", 1)[0]
        link = target / top
        if not os.path.lexists(link):
            os.symlink(f"{DATA_DIR}/{top}", link)
