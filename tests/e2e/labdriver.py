"""Drives a running lab as a user does: a real kubectl, SSH to its machines, waiting.

`lab up` brings the lab up and deploys it; tests talk to it with a real kubectl and
reach machines over the SSH details of the generated inventory. `lab down` runs at the
end unless KUBELAB_E2E_KEEP=1 (handy when iterating on a test).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".lab"
LAB = str(REPO / ".venv" / "bin" / "lab")


def kubectl_binary(minor: int) -> str:
    base = shutil.which("kubectl")
    assert base, "kubectl is not on PATH"
    path = Path(os.path.realpath(base)).parent / f"kubectl.1.{minor}"
    assert path.exists(), f"{path} is missing"
    return str(path)


def table_column(output: str, column: str) -> dict[str, str]:
    """A `kubectl get` table as {NAME: the cell under `column`}.

    Cells are cut at the header's column offsets (kubectl pads every column to line up; titles
    such as "NOMINATED NODE" and cells such as "1 (5s ago)" hold single spaces), so a value is
    compared whole: "NotReady" never reads as "Ready"."""
    header, *rows = output.splitlines()
    titles = [(m.group(), m.start()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    names = [t for t, _ in titles]
    assert names[0] == "NAME" and column in names, f"no {column} column in {header!r}"
    i = names.index(column)
    start, end = titles[i][1], titles[i + 1][1] if i + 1 < len(titles) else None
    return {row.split()[0]: row[start:end].strip() for row in rows if row.strip()}


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    port: int
    user: str
    key: str
    ip: str


def read_inventory(path: Path) -> dict[str, Host]:
    """The host lines of the generated ansible inventory (`name key=value ...`)."""
    hosts: dict[str, Host] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("[", "#", ";")) or "ansible_host=" not in line:
            continue
        name, *pairs = shlex.split(line)
        vars_ = dict(p.split("=", 1) for p in pairs if "=" in p)
        hosts[name] = Host(
            name=name,
            address=vars_["ansible_host"],
            port=int(vars_.get("ansible_port", "22")),
            user=vars_.get("ansible_user", "vagrant"),
            key=vars_.get("ansible_ssh_private_key_file", ""),
            ip=vars_.get("ip", vars_["ansible_host"]),
        )
    return hosts


class Lab:
    """What a test needs of the running lab: kubectl, SSH to machines, waiting."""

    def __init__(self, kubeconfig: Path, hosts: dict[str, Host]) -> None:
        self.kubeconfig = kubeconfig
        self.hosts = hosts
        self.cache_dir = STATE / "kubectl-cache"

    def kubectl(self, *args: str, minor: int = 33, check: bool = True, stdin: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [kubectl_binary(minor), "--kubeconfig", str(self.kubeconfig),
               "--cache-dir", str(self.cache_dir / str(minor)), *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    def get_json(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def ssh(self, host: str, command: str, check: bool = True, timeout: float = 60) -> str:
        h = self.hosts[host]
        cmd = ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-p", str(h.port)]
        if h.key:
            cmd += ["-i", h.key]
        cmd += [f"{h.user}@{h.address}", command]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"ssh {host} {command!r} failed: {proc.stderr.strip()}")
        return proc.stdout

    @staticmethod
    def wait(what: str, probe: Callable[[], Any], timeout: float = 180, interval: float = 2) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = probe()
            except AssertionError as exc:
                last = exc
            else:
                if last:
                    return last
            time.sleep(interval)
        raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
