"""`kube-apiserver` entry point: flags -> Settings, klog-style logs, and the process edge every
component shares (`run_component`: SIGTERM/SIGINT stop it cleanly with exit 0). A failure that
ends the server (a background loop that crashed, a port in use) is logged and exits 1, so
systemd restarts it."""

from __future__ import annotations

import logging
import sys

from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import from_args
from lab.kube.component import run_component, setup_logging

log = logging.getLogger("kube-apiserver")


def main(argv: list[str] | None = None) -> int:
    settings = from_args(argv)
    setup_logging(settings.verbosity)
    try:
        import uvloop  # optional, faster event loop
        uvloop.install()
    except ImportError:
        pass
    try:
        run_component(APIServer(settings).run())
    except Exception:  # the last edge: one klog record with the traceback, then a failed exit
        log.exception("kube-apiserver stopped on an error")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
