"""`kubelet`: the node agent. Flags and KubeletConfiguration in, `asyncio.run(run(settings))`.

SIGTERM and SIGINT cancel the run and exit 0; the pods keep running under containerd, and the
next kubelet adopts them by their CRI labels. `--hollow-nodes N` runs N hollow kubelets instead
(a fake runtime each, for scale tests).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from lab.kube.component import run_component, setup_logging
from lab.kube.component.config import ConfigError
from lab.kube.kubelet.hollow import run_hollow
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import settings_from_args

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    try:
        settings = settings_from_args(argv)
    except ConfigError as exc:  # upstream: "failed to load kubelet config file", exit 1
        print(f"kubelet: {exc}", file=sys.stderr)
        return 1
    setup_logging(settings.verbosity)
    if not settings.kubeconfig:
        log.error("--kubeconfig is required")
        return 2
    if settings.hollow_nodes:
        workdir = Path(settings.root_dir) / "hollow"
        run_component(run_hollow(settings, settings.hollow_nodes, workdir), stopped="hollow kubelets stopped")
        return 0
    run_component(run(settings), stopped="kubelet stopped; pods are left running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
