"""The component runner: real subprocesses through asyncio, and the recording fake behaving like them."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from lab.kube.component.process import CommandError, RecordingRunner, Result, SubprocessRunner, run
from tests.support import eventually

PY = sys.executable


async def test_output_exit_code_and_stdin() -> None:
    result = await run([PY, "-c", "import sys; print(sys.stdin.read().upper())"], input="payload")
    assert result == Result((PY, "-c", "import sys; print(sys.stdin.read().upper())"), 0, "PAYLOAD\n", "")


async def test_without_input_stdin_is_empty_not_the_terminal() -> None:
    result = await run([PY, "-c", "import sys; print(repr(sys.stdin.read()))"])
    assert result.stdout == "''\n"


async def test_a_failure_names_the_command_its_exit_code_and_stderr() -> None:
    argv = [PY, "-c", "import sys; sys.stderr.write('bad flag\\n'); sys.exit(3)"]
    with pytest.raises(CommandError) as caught:
        await run(argv)
    assert (caught.value.argv, caught.value.code, caught.value.stderr) == (tuple(argv), 3, "bad flag\n")
    assert str(caught.value).endswith(": exit 3: bad flag")
    unchecked = await run(argv, check=False)
    assert (unchecked.code, unchecked.stderr) == (3, "bad flag\n")


async def test_a_missing_binary_is_a_command_error() -> None:
    with pytest.raises(CommandError) as caught:
        await run(["/nonexistent/kubelab-no-such-tool", "x"])
    assert caught.value.code == 127 and "No such file" in caught.value.stderr


async def test_a_command_over_its_timeout_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(CommandError, match="timed out after 0s") as caught:
        await run([PY, "-c", f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"],
                  timeout=0.5)
    assert caught.value.timed_out == 0.5
    assert time.monotonic() - started < 10
    assert not _alive(int(pidfile.read_text()))


async def test_cancelling_the_caller_kills_the_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    task = asyncio.create_task(run([PY, "-c", code]))
    await eventually(lambda: pidfile.exists() and pidfile.read_text(), 10, "the child to write its pid")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _alive(int(pidfile.read_text()))


async def test_the_event_loop_keeps_running_while_a_command_runs() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await SubprocessRunner().run([PY, "-c", "import time; time.sleep(0.5)"])
    ticker.cancel()
    assert ticks >= 10


async def test_the_recording_runner_records_and_answers_like_the_real_one() -> None:
    runner = RecordingRunner(
        lambda argv: "10.0.0.0/24\n" if "show" in argv else Result(tuple(argv), 2, "", "RTNETLINK: no"))
    assert (await runner.run(["ip", "route", "show"])).stdout == "10.0.0.0/24\n"
    with pytest.raises(CommandError, match="exit 2: RTNETLINK: no"):
        await runner.run(["ip", "route", "del", "x"], input="stdin text")
    assert (await runner.run(["ip", "route", "del", "x"], check=False)).code == 2
    assert runner.commands == [["ip", "route", "show"], ["ip", "route", "del", "x"], ["ip", "route", "del", "x"]]
    assert runner.inputs == [None, "stdin text", None]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
