"""The wheelhouse the kubelab role installs from, offline: our own wheel plus every runtime
dependency as a binary wheel for the machines' CPython 3.11. Rebuilt only when the sources
changed (a hash kept beside the wheels), and built reproducibly (fixed zip timestamps) so an
unchanged tree gives byte-identical wheels and the role sees nothing to reinstall.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from lab.run import run

REPO = Path(__file__).resolve().parents[2]
STAMP = ".source-sha256"
SUMS = "SHA256SUMS"
# wheel honours SOURCE_DATE_EPOCH for the timestamps inside the zip (1980-01-01 is zip's epoch)
REPRODUCIBLE_EPOCH = "315532800"


def source_files(repo: Path = REPO) -> list[Path]:
    """What goes into our wheel: pyproject and the `lab` package (code and package data)."""
    files = [repo / "pyproject.toml"]
    for path in sorted((repo / "lab").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".proto", ".yaml", ".json"}:
            files.append(path)
    return files


def source_hash(repo: Path = REPO) -> str:
    digest = hashlib.sha256()
    for path in source_files(repo):
        digest.update(str(path.relative_to(repo)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def write_sums(dest: Path) -> Path:
    """`SHA256SUMS` of every wheel (sha256sum format): the role's install trigger."""
    lines = [f"{hashlib.sha256(w.read_bytes()).hexdigest()}  {w.name}" for w in sorted(dest.glob("*.whl"))]
    sums = dest / SUMS
    sums.write_text("\n".join(lines) + "\n")
    return sums


def pip_wheel_command(dest: Path, repo: Path = REPO) -> list[str]:
    # --prefer-binary: dependencies come as manylinux wheels for cp311, nothing compiles on the machines
    return [sys.executable, "-m", "pip", "wheel", "--quiet", "--prefer-binary", "--wheel-dir", str(dest), str(repo)]


def build(dest: Path, repo: Path = REPO, force: bool = False) -> Path:
    """Fill `dest` with kubelab's wheel and its dependencies; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = source_hash(repo)
    stamp = dest / STAMP
    if not force and stamp.exists() and stamp.read_text().strip() == wanted and any(dest.glob("kubelab-*.whl")):
        return dest
    for stale in dest.glob("kubelab-*.whl"):
        stale.unlink()  # an older version's wheel would make pip's choice ambiguous
    env = dict(os.environ, SOURCE_DATE_EPOCH=REPRODUCIBLE_EPOCH, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run(pip_wheel_command(dest, repo), cwd=repo, env=env, capture=False)  # pip's progress stays on the terminal
    write_sums(dest)
    stamp.write_text(wanted + "\n")
    return dest
