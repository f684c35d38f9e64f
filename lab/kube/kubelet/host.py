"""The kubelet's touch points on the host: a command runner seam and the sysctls pods need.

`SubprocessRunner` runs `ip`/`modprobe` for real; `RecordingRunner` records the commands and
answers from a script, so route logic is tested without touching the machine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)
COMMAND_TIMEOUT = 30.0


class CommandError(Exception):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)}: exit {code}: {stderr.strip()}")
        self.argv, self.code, self.stderr = list(argv), code, stderr


class CommandRunner(Protocol):
    async def run(self, argv: Sequence[str]) -> str: ...


class SubprocessRunner:
    async def run(self, argv: Sequence[str]) -> str:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise CommandError(argv, -1, "timed out") from None
        if proc.returncode:
            raise CommandError(argv, proc.returncode, err.decode(errors="replace"))
        return out.decode()


class RecordingRunner:
    """Records argv lists; `answer(argv) -> str` scripts the output (default "")."""

    def __init__(self, answer: Callable[[list[str]], str] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.answer = answer or (lambda argv: "")

    async def run(self, argv: Sequence[str]) -> str:
        self.commands.append(list(argv))
        return self.answer(list(argv))


SYSCTLS = {"net/ipv4/ip_forward": "1", "net/bridge/bridge-nf-call-iptables": "1"}


async def prepare_host(runner: CommandRunner, proc_sys: Path = Path("/proc/sys")) -> None:
    """Forwarding on (pods route through the node), bridged traffic through iptables (Services)."""
    if not (proc_sys / "net/bridge").exists():
        try:
            await runner.run(["modprobe", "br_netfilter"])
        except (CommandError, OSError) as exc:  # best effort: in a container the module may be the host's call
            log.warning("modprobe br_netfilter failed: %s", exc)
    for key, value in SYSCTLS.items():
        path = proc_sys / key
        if not path.exists():
            log.warning("sysctl %s missing; skipping", key.replace("/", "."))
            continue
        try:
            if path.read_text().strip() != value:
                path.write_text(value + "\n")
                log.info("Set sysctl %s=%s", key.replace("/", "."), value)
        except OSError as exc:  # a read-only /proc: say so, keep going
            log.warning("Could not set sysctl %s: %s", key.replace("/", "."), exc)
