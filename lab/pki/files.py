"""Writing PEM and kubeconfig files safely: private keys 0600 from the first byte, and
write-if-different so a second run leaves files (and their mtimes) alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Write a secret (key or kubeconfig with an embedded key) readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # O_CREAT with 0600 so the key is never world-readable, not even for a moment
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    """Write a certificate (0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_if_changed(path: Path, data: bytes, private: bool) -> bool:
    """Write `data` unless the file already holds exactly it; True when written."""
    if path.exists() and path.read_bytes() == data:
        return False
    (write_private if private else write_public)(path, data)
    return True
