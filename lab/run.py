"""Running host tools for the lab (docker, vagrant, mmdebstrap, pip, ansible-playbook, kubectl).

Every external command of `lab` goes through `run`, so a failure surfaces as a `CommandError`
naming the command and the last line it printed, which the CLI shows as is. Output is
captured (the default), left on the user's terminal (`capture=False`), or streamed line by
line to `on_line` and captured too (ansible-playbook, whose recap callers read).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, overload

log = logging.getLogger(__name__)
STDERR_TAIL = 4000  # characters of stderr a CommandError keeps for callers that want more than the last line


class CommandError(Exception):
    """A host command failed, timed out or is not installed; the message is one line for the user."""

    def __init__(self, message: str, argv: Sequence[str], code: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.argv, self.code, self.stderr = tuple(argv), code, stderr


@overload
def run(argv: Sequence[str], *, cwd: Path | None = ..., env: Mapping[str, str] | None = ...,
        input: str | None = ..., timeout: float | None = ..., capture: bool = ..., check: bool = ...,
        on_line: Callable[[str], None] | None = ..., text: Literal[True] = ...) -> subprocess.CompletedProcess[str]: ...


@overload
def run(argv: Sequence[str], *, cwd: Path | None = ..., env: Mapping[str, str] | None = ...,
        input: bytes | None = ..., timeout: float | None = ..., capture: bool = ..., check: bool = ...,
        on_line: None = ..., text: Literal[False]) -> subprocess.CompletedProcess[bytes]: ...


def run(argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        input: str | bytes | None = None, timeout: float | None = None, capture: bool = True, check: bool = True,
        on_line: Callable[[str], None] | None = None,
        text: bool = True) -> subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]:
    """Run `argv` to completion. `check`: a non-zero exit raises CommandError. `text=False`
    gives bytes (a tar on stdout). `on_line`: stdout and stderr merged, each line handed over
    as it comes, the whole kept as `stdout`."""
    argv = list(argv)
    log.debug("Running %s%s", shlex.join(argv), f" in {cwd}" if cwd else "")
    environment = dict(env) if env is not None else None
    try:
        if on_line is not None:
            proc: subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes] = _streamed(
                argv, cwd, environment, on_line)
        else:
            proc = subprocess.run(argv, cwd=cwd, env=environment, input=input, text=text,
                                  capture_output=capture, timeout=timeout)
    except FileNotFoundError as exc:
        raise CommandError(f"{argv[0]} is not installed (run scripts/host-setup.sh)", argv) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(f"{shlex.join(argv)} timed out after {timeout:.0f}s", argv) from exc
    if check and proc.returncode != 0:
        raise CommandError(f"{shlex.join(argv[:3])} failed (exit {proc.returncode}): {last_line(proc)}", argv,
                           proc.returncode, _text(proc.stderr)[-STDERR_TAIL:])
    return proc


def _streamed(argv: list[str], cwd: Path | None, env: dict[str, str] | None,
              on_line: Callable[[str], None]) -> subprocess.CompletedProcess[str]:
    lines: list[str] = []
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line)
            lines.append(line)
        code = proc.wait()
    return subprocess.CompletedProcess(argv, code, "".join(lines), "")


def last_line(proc: subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]) -> str:
    """The last non-empty line of stderr, else of stdout: what a one-line error quotes."""
    for stream in (proc.stderr, proc.stdout):
        lines = [line.strip() for line in _text(stream).splitlines() if line.strip()]
        if lines:
            return lines[-1][:300]
    return "no output"


def _text(stream: str | bytes | None) -> str:
    if isinstance(stream, bytes):
        return stream.decode(errors="replace")
    return stream or ""
