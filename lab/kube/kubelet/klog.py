"""klog-shaped log lines on stderr: `I1124 10:00:00.000000    1234 file.py:12] message`.

Operators grep kubelet logs with habits from upstream; the shape is what they expect.
"""

from __future__ import annotations

import logging
import os
import sys
import time

_LEVELS = {logging.DEBUG: "I", logging.INFO: "I", logging.WARNING: "W", logging.ERROR: "E", logging.CRITICAL: "F"}


class KlogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        t = time.localtime(record.created)
        micros = int((record.created % 1) * 1_000_000)
        head = (f"{_LEVELS.get(record.levelno, 'I')}{time.strftime('%m%d %H:%M:%S', t)}.{micros:06d} "
                f"{os.getpid():>7} {record.filename}:{record.lineno}]")
        text = f"{head} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup(verbosity: int = 0) -> None:
    """Route the root logger to stderr in klog shape; -v >= 4 shows debug lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 4 else logging.INFO)
