"""A stop signal cancels the component's main coroutine, its cleanup runs, and it returns cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from lab.kube.component import cancel_on_signals

REPO = Path(__file__).resolve().parents[4]


async def test_sigterm_cancels_main_and_its_finally_runs() -> None:
    started, cleaned = asyncio.Event(), asyncio.Event()

    async def main() -> None:
        started.set()  # cancel_on_signals installs its handlers before it awaits main
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.set()

    async def guarded() -> None:
        await cancel_on_signals(main())

    task = asyncio.create_task(guarded())
    await asyncio.wait_for(started.wait(), 5)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 5)
    assert cleaned.is_set() and not task.cancelled()
    # handlers are removed again: the loop no longer owns SIGTERM
    assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


def test_a_component_process_exits_zero_on_sigterm() -> None:
    code = ("import asyncio, sys\n"
            "from lab.kube.component import run_component, setup_logging\n"
            "async def main():\n"
            "    print('ready', flush=True)\n"
            "    await asyncio.sleep(60)\n"
            "setup_logging(0)\n"
            "run_component(main(), stopped='demo stopped')\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err
    assert "received termination signal" in err and "] demo stopped" in err
