"""`kubelet`: the node agent. Flags and KubeletConfiguration in, `asyncio.run(run(settings))`.

SIGTERM and SIGINT cancel the run and exit 0; the pods keep running under containerd, and the
next kubelet adopts them by their CRI labels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from lab.kube.kubelet import klog
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings, settings_from_args

log = logging.getLogger(__name__)


async def _main(settings: KubeletSettings) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run(settings)
    log.info("kubelet stopped; pods are left running")


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(argv)
    klog.setup(settings.verbosity)
    if not settings.kubeconfig:
        log.error("--kubeconfig is required")
        return 2
    asyncio.run(_main(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
