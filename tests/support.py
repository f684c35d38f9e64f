"""Helpers every test tier shares: wait for an observable condition, prove one holds over a
bounded window, and pick a free loopback port. One copy of each; tiers import them from here."""

from __future__ import annotations

import asyncio
import fcntl
import inspect
import os
import pty
import select
import socket
import struct
import termios
import time
from collections.abc import Callable
from typing import Any

from lab.kube.machinery import errors

POLL_INTERVAL = 0.05


async def _probe(check: Callable[[], Any]) -> Any:
    """One look: `check` may be sync or async; an API error counts as "not yet"."""
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await result
    except errors.APIError as exc:
        return exc
    return result


async def eventually(check: Callable[[], Any], timeout: float = 10.0, what: str = "",
                     interval: float = POLL_INTERVAL) -> Any:
    """Poll `check()` until it returns something truthy and return that value.

    Fails with the last value seen (or the last API error) after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while True:
        last = await _probe(check)
        if last and not isinstance(last, Exception):
            return last
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last={last!r}")
        await asyncio.sleep(interval)


async def holds_for(check: Callable[[], Any], seconds: float, what: str = "",
                    interval: float = POLL_INTERVAL) -> None:
    """Assert `check()` stays truthy for the whole window: the explicit form of "nothing
    happened", checked at every poll instead of once after a sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    polls = 0
    while True:
        value = await _probe(check)
        polls += 1
        if not value or isinstance(value, Exception):
            raise AssertionError(f"{what or check} stopped holding after {polls} polls: {value!r}")
        if loop.time() >= deadline:
            return
        await asyncio.sleep(interval)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (bind port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def run_in_pty(argv: list[str], script: bytes, expect: bytes, timeout: float = 30,
               rows: int = 40, columns: int = 100) -> tuple[int, bytes]:
    """Run argv on a pseudo-terminal of `rows` x `columns`, type `script` once a shell prompts
    (`# `, or after 5 s), read until it exits; (exit code, output), `expect` asserted in it."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: argv with the pty as its terminal
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        os.execv(argv[0], argv)
    output, sent = b"", False
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal: it exited
                    break
                if not chunk:
                    break
                output += chunk
            if not sent and (b"# " in output or time.monotonic() - started > 5):
                os.write(fd, script)
                sent = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert expect in output, output
    return os.waitstatus_to_exitcode(status), output
