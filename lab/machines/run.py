"""Running host tools (docker, vagrant, mmdebstrap, skopeo) with one-line failures.

Every external command of lab/machines goes through `run`, so a failure surfaces as a
`MachineError` naming the command and the last line it printed, which the CLI shows as is.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Mapping, Sequence


class MachineError(Exception):
    """A lab machine operation failed; the message is one line for the user."""


def run(cmd: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        capture: bool = True, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run `cmd`; with capture=False its output streams to the user's terminal."""
    try:
        proc = subprocess.run(list(cmd), cwd=cwd, env=dict(env) if env is not None else None,
                              text=True, capture_output=capture, timeout=timeout)
    except FileNotFoundError as exc:
        raise MachineError(f"{cmd[0]} is not installed (run scripts/host-setup.sh)") from exc
    except subprocess.TimeoutExpired as exc:
        raise MachineError(f"{shlex.join(cmd)} timed out after {timeout:.0f}s") from exc
    if check and proc.returncode != 0:
        raise MachineError(f"{shlex.join(cmd[:3])} failed (exit {proc.returncode}): {last_line(proc)}")
    return proc


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    for stream in (proc.stderr, proc.stdout):
        lines = [line.strip() for line in (stream or "").splitlines() if line.strip()]
        if lines:
            return lines[-1][:300]
    return "no output"
