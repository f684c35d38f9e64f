"""Running the lab's playbooks: `ansible-playbook` from the same venv as `lab`, with the
repo's ansible.cfg, output streamed to the terminal and the PLAY RECAP kept for callers
(the e2e test asserts `changed=0` on every host of a second run).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from lab.deploy.recap import parse_recap
from lab.run import run

REPO = Path(__file__).resolve().parents[2]


class PlaybookResult(int):
    """How a playbook run ended: the exit code (this int itself, so callers written against
    `run_playbook(...) -> int` keep working) plus the per-host PLAY RECAP counts."""

    recap: dict[str, dict[str, int]]

    def __new__(cls, rc: int, recap: dict[str, dict[str, int]] | None = None) -> PlaybookResult:
        obj = super().__new__(cls, rc)
        obj.recap = recap or {}
        return obj

    @property
    def rc(self) -> int:
        return int(self)

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def changed(self) -> dict[str, int]:
        """Host -> number of changed tasks."""
        return {host: counts.get("changed", 0) for host, counts in self.recap.items()}

    def __repr__(self) -> str:
        return f"PlaybookResult(rc={self.rc}, recap={self.recap!r})"


def ansible_playbook_binary() -> str:
    # the venv that runs `lab` also holds ansible-core (the `lab` extra)
    local = Path(sys.executable).parent / "ansible-playbook"
    return str(local) if local.exists() else "ansible-playbook"


def playbook_command(playbook: str | Path, inventory: str | Path, extra_vars: dict[str, Any] | None = None,
                     limit: str | None = None, check: bool = False) -> list[str]:
    """The argv for one run; relative playbooks resolve against `playbooks/`."""
    path = Path(playbook)
    if not path.is_absolute() and not path.exists():
        path = REPO / "playbooks" / path
    cmd = [ansible_playbook_binary(), "-i", str(inventory), str(path)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    if check:
        cmd += ["--check", "--diff"]
    return cmd


def playbook_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": env.get("ANSIBLE_FORCE_COLOR", "1" if sys.stdout.isatty() else "0"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run_playbook(playbook: str | Path, inventory: str | Path, extra_vars: dict[str, Any] | None = None,
                 limit: str | None = None, check: bool = False, out: TextIO | None = None) -> PlaybookResult:
    """Run one playbook to completion, echoing its output to `out` (default stdout)."""
    out = out or sys.stdout
    sink = out

    def echo(line: str) -> None:
        sink.write(line)
        sink.flush()

    proc = run(playbook_command(playbook, inventory, extra_vars, limit, check), cwd=REPO, env=playbook_env(),
               check=False, on_line=echo)
    return PlaybookResult(rc=proc.returncode, recap=parse_recap(proc.stdout.splitlines(keepends=True)))
