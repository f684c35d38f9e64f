"""klog-shaped logging for the component: `I1124 10:00:00.000000    1234 file.py:12] message`.

(The same few lines live in lab/kube/scheduler/klog.py; a shared home in lab/kube/client
would be better — see the report.)
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime

_LEVELS = {logging.DEBUG: "I", logging.INFO: "I", logging.WARNING: "W", logging.ERROR: "E", logging.CRITICAL: "F"}


class KlogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created)
        head = (f"{_LEVELS.get(record.levelno, 'I')}{ts:%m%d %H:%M:%S.%f} {os.getpid():7d} "
                f"{record.filename}:{record.lineno}] ")
        text = head + record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup(verbosity: int = 0) -> None:
    """Log to stderr in klog shape; `-v 4` and above include debug lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 4 else logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
