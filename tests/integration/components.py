"""Helpers for integration tests that run kubelab components as processes on loopback.

    scheduler = Component("lab.kube.scheduler.main", ["--kubeconfig", kubeconfig], tmp_path)
    await eventually(lambda: client.get(catalog.LEASES, "kube-scheduler", "kube-system"))
    assert scheduler.stop() == 0
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.kube.machinery import errors
from tests.integration.conftest import REPO, free_port


class Component:
    """A component process (`python -m <module>`) with its log; `healthz()` probes its health port."""

    def __init__(self, module: str, args: list[str], workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / f"{module.rsplit('.', 2)[-2]}.log"
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", module, *args, "--secure-port", str(self.port)],
                                         stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)

    def healthz(self) -> str:
        """The body of /healthz, "" while the port is not up yet."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                return resp.read().decode()
        except OSError:
            return ""

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; kill only if it does not exit in time. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


async def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Await `check()` until it returns something truthy (API errors count as not yet)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await check()
        except errors.APIError as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")
