"""Host commands from a component (the kubelet's `ip route`, kube-proxy's iptables) without
blocking the event loop.

`Runner` is the seam: `SubprocessRunner` runs the command for real through asyncio (stdin
from `input`, a timeout, the child killed if the caller is cancelled); `RecordingRunner`
records every argv and stdin and answers from a script, so the logic around the commands is
tested without touching the machine.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
NOT_STARTED = 127  # the shell's "command not found": the binary is missing or not executable


@dataclass(frozen=True)
class Result:
    """A finished command: its exit code and what it printed."""

    argv: tuple[str, ...]
    code: int
    stdout: str = ""
    stderr: str = ""


class CommandError(Exception):
    """A command failed, timed out or could not start; the message names it and ends with its stderr."""

    def __init__(self, argv: Sequence[str], code: int, stderr: str, timed_out: float | None = None) -> None:
        self.argv, self.code, self.stderr, self.timed_out = tuple(argv), code, stderr, timed_out
        if timed_out is not None:
            message = f"{shlex.join(self.argv)}: timed out after {timed_out:.0f}s"
        else:
            message = f"{shlex.join(self.argv)}: exit {code}: {stderr.strip()}"
        super().__init__(message)


class Runner(Protocol):
    async def run(self, argv: Sequence[str], *, input: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  check: bool = True) -> Result:
        """Run `argv`; with `check`, a non-zero exit raises CommandError."""
        ...


async def run(argv: Sequence[str], *, input: str | None = None, timeout: float = DEFAULT_TIMEOUT,
              check: bool = True) -> Result:
    """Run `argv` to completion (stdin is `input`, or empty); see `Runner.run`."""
    log.debug("Running %s", shlex.join(argv))
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except OSError as exc:  # one error type for callers: a missing binary fails like a failed command
        raise CommandError(argv, NOT_STARTED, str(exc)) from exc
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(input.encode() if input is not None else None)
    except TimeoutError:
        await _kill(proc)
        raise CommandError(argv, -1, "", timed_out=timeout) from None
    except BaseException:  # cancelled: the child must not outlive the caller
        await _kill(proc)
        raise
    result = Result(tuple(argv), proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
    if check and result.code != 0:
        raise CommandError(argv, result.code, result.stderr)
    return result


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


class SubprocessRunner:
    """The real runner: `run` above."""

    async def run(self, argv: Sequence[str], *, input: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  check: bool = True) -> Result:
        return await run(argv, input=input, timeout=timeout, check=check)


Answer = Callable[[list[str]], str | Result]


class RecordingRunner:
    """Records each argv (`commands`) and stdin (`inputs`); `answer(argv)` scripts the reply:
    a string is the stdout of a successful run, a Result is returned as is (a non-zero code
    raises CommandError under `check`, as the real runner does). Default: success, no output."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.commands: list[list[str]] = []
        self.inputs: list[str | None] = []
        self.answer: Answer = answer or (lambda argv: "")

    async def run(self, argv: Sequence[str], *, input: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  check: bool = True) -> Result:
        self.commands.append(list(argv))
        self.inputs.append(input)
        reply = self.answer(list(argv))
        result = reply if isinstance(reply, Result) else Result(tuple(argv), 0, reply)
        if check and result.code != 0:
            raise CommandError(argv, result.code, result.stderr)
        return result
