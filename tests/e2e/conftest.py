"""e2e fixtures: one docker-provider lab for the whole run, driven as a user drives it.

`lab up` brings the lab up and deploys it; `lab down` runs at the end unless
KUBELAB_E2E_KEEP=1 (handy when iterating on a test).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.e2e.labdriver import LAB, REPO, STATE, Lab, read_inventory


def run_lab(*args: str, timeout: float) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    subprocess.run([LAB, *args], cwd=REPO, env=env, check=True, timeout=timeout)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    started = time.monotonic()
    try:
        run_lab("up", timeout=45 * 60)
        print(f"\nlab up took {time.monotonic() - started:.0f}s")
        yield Lab(STATE / "admin.kubeconfig", read_inventory(STATE / "inventory" / "hosts.ini"))
    finally:
        # A failed `lab up` leaves machines behind too: always tear down.
        if os.environ.get("KUBELAB_E2E_KEEP") != "1":
            run_lab("down", timeout=10 * 60)
