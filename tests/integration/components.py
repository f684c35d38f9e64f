"""Helpers for integration tests that run kubelab components as processes on loopback.

    scheduler = Component("lab.kube.scheduler.main", ["--kubeconfig", kubeconfig], tmp_path)
    await eventually(lambda: client.get(catalog.LEASES, "kube-scheduler", "kube-system"), timeout=WAIT)
    assert scheduler.stop() == 0
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.integration.conftest import REPO
from tests.support import free_port

# Waits on what component processes do: they share a 2-core machine with the API server and etcd.
WAIT = 30.0


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
        """The body of /healthz on the secure port (HTTPS, self-signed), "" while the port is not up yet."""
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/healthz", timeout=2, context=insecure) as resp:
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

