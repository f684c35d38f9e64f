"""klog-shaped logging for every component: `I1124 10:00:00.000000    1234 file.py:12] message`.

Operators grep component logs with habits from upstream; one formatter keeps the shape the
same across kube-scheduler, kube-controller-manager, kubelet and kube-proxy.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime

_LEVELS = {logging.DEBUG: "I", logging.INFO: "I", logging.WARNING: "W", logging.ERROR: "E", logging.CRITICAL: "F"}
# libraries whose INFO lines are noise next to ours (aiohttp logs every request it serves)
NOISY_LOGGERS = ("aiohttp.access", "grpc", "asyncio")


class KlogFormatter(logging.Formatter):
    """Level letter, local date and time in microseconds, pid, file:line, then the message."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created)
        head = (f"{_LEVELS.get(record.levelno, 'I')}{ts:%m%d %H:%M:%S.%f} {os.getpid():7d} "
                f"{record.filename}:{record.lineno}] ")
        text = head + record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup_logging(verbosity: int = 0) -> None:
    """Route the root logger to stderr in klog shape; `-v 4` and above include debug lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 4 else logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
