"""`kube-apiserver` entry point: flags -> Settings, klog-style logs, SIGTERM -> clean stop."""

from __future__ import annotations

import asyncio
import logging
import signal

from lab.kube.apiserver.rest.fieldcheck import schema_available
from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings, from_args
from lab.kube.component import setup_logging


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
