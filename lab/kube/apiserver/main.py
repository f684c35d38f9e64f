"""`kube-apiserver` entry point: flags -> Settings, klog-style logs, SIGTERM -> clean stop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

from lab.kube.apiserver.rest.fieldcheck import schema_available
from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings, from_args


class KlogFormatter(logging.Formatter):
    """`I1124 10:00:00.000000    1234 file.py:12] message`, as klog writes."""

    def format(self, record: logging.LogRecord) -> str:
        level = {"DEBUG": "I", "INFO": "I", "WARNING": "W", "ERROR": "E", "CRITICAL": "F"}.get(
            record.levelname, "I")
        ts = time.strftime("%m%d %H:%M:%S", time.localtime(record.created))
        micros = int((record.created % 1) * 1_000_000)
        line = (f"{level}{ts}.{micros:06d} {os.getpid():7d} {record.filename}:{record.lineno}] "
                f"{record.getMessage()}")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KlogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 4 else logging.INFO)
    for noisy in ("aiohttp.access", "grpc", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not schema_available():
        logging.getLogger(__name__).warning("field validation schema not available: "
                                            "fieldValidation=Strict checks only object shape")
    await APIServer(settings).run(stop)


def main(argv: list[str] | None = None) -> None:
    settings = from_args(argv)
    setup_logging(settings.verbosity)
    try:
        import uvloop  # optional, faster event loop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
