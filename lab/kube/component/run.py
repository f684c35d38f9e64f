"""The process edge every component shares: SIGTERM/SIGINT cancel the main coroutine.

Cancellation runs each component's own `finally` blocks (leases released, servers closed),
then the process exits 0, which is what systemd and the integration tests expect of a clean stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def cancel_on_signals(main: Coroutine[Any, Any, Any]) -> None:
    """Await `main`; a stop signal cancels it and counts as a clean return."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, task.cancel)
    try:
        await main
    except asyncio.CancelledError:
        log.info("received termination signal, shutting down")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


def run_component(main: Coroutine[Any, Any, Any], stopped: str = "") -> None:
    """`asyncio.run(main)` until it returns or a stop signal arrives; log `stopped` after."""
    asyncio.run(cancel_on_signals(main))
    if stopped:
        log.info("%s", stopped)
