"""The iptables seam: `IptablesApplier` drives the real binaries, `RecordingApplier` records.

A sync is: read which KUBE-* nat chains exist, make sure the base chains jump to ours
(`iptables -C || -I`, as upstream does outside the restore), then one
`iptables-restore --noflush --counters` with the payload from rules.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.kube.component.process import CommandError, Runner, SubprocessRunner
from lab.kube.proxy import chains as c

log = logging.getLogger(__name__)

LOCK_WAIT = "5"  # seconds to wait for the xtables lock (-w), as upstream's iptables wrapper


@dataclass(frozen=True)
class Jump:
    """A rule in a base chain that sends traffic into one of ours."""

    table: str
    chain: str
    target: str
    comment: str
    extra: tuple[str, ...] = ()

    def args(self) -> list[str]:
        return ["-m", "comment", "--comment", self.comment, *self.extra, "-j", self.target]


NEW = ("-m", "conntrack", "--ctstate", "NEW")
JUMPS: tuple[Jump, ...] = (  # upstream iptablesJumpChains, in order
    Jump("filter", "INPUT", c.KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW),
    Jump("filter", "FORWARD", c.KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW),
    Jump("filter", "INPUT", c.KUBE_NODEPORTS, "kubernetes health check service ports"),
    Jump("filter", "FORWARD", c.KUBE_SERVICES, "kubernetes service portals", NEW),
    Jump("filter", "OUTPUT", c.KUBE_SERVICES, "kubernetes service portals", NEW),
    Jump("filter", "FORWARD", c.KUBE_FORWARD, "kubernetes forwarding rules"),
    Jump("nat", "OUTPUT", c.KUBE_SERVICES, "kubernetes service portals"),
    Jump("nat", "PREROUTING", c.KUBE_SERVICES, "kubernetes service portals"),
    Jump("nat", "POSTROUTING", c.KUBE_POSTROUTING, "kubernetes postrouting rules"),
)
CANARY_TABLES = ("mangle", "nat", "filter")


class ApplyError(Exception):
    """An iptables command failed; the message carries its stderr."""


class Applier(Protocol):
    async def existing_chains(self, table: str) -> set[str]: ...
    async def ensure_jumps(self) -> None: ...
    async def restore(self, payload: str) -> None: ...
    async def ensure_canary(self) -> None: ...
    async def canary_present(self) -> bool: ...


_CHAIN_LINE = re.compile(r"^:(\S+) ", re.MULTILINE)


def parse_chains(save_output: str) -> set[str]:
    """Chain names declared in `iptables-save` output (`:NAME POLICY [p:b]` lines)."""
    return set(_CHAIN_LINE.findall(save_output))


class IptablesApplier:
    """Runs the iptables binaries through a component runner; `prefix` runs them elsewhere,
    e.g. `("ip", "netns", "exec", ns)`."""

    def __init__(self, prefix: Sequence[str] = (), timeout: float = 60.0, runner: Runner | None = None) -> None:
        self.prefix = tuple(prefix)
        self.timeout = timeout
        self.runner: Runner = runner or SubprocessRunner()

    async def _run(self, *argv: str, stdin: str | None = None, check: bool = True) -> tuple[int, str]:
        try:
            result = await self.runner.run([*self.prefix, *argv], input=stdin, timeout=self.timeout, check=check)
        except CommandError as exc:
            raise ApplyError(str(exc)) from exc
        return result.code, result.stdout

    async def existing_chains(self, table: str) -> set[str]:
        _, out = await self._run("iptables-save", "-t", table)
        return parse_chains(out)

    async def _ensure_chain(self, table: str, chain: str) -> None:
        code, _ = await self._run("iptables", "-w", LOCK_WAIT, "-t", table, "-N", chain, check=False)
        if code not in (0, 1):  # 1: the chain already exists
            raise ApplyError(f"iptables -t {table} -N {chain} exited {code}")

    async def ensure_jumps(self) -> None:
        for jump in JUMPS:
            await self._ensure_chain(jump.table, jump.target)
            check, _ = await self._run("iptables", "-w", LOCK_WAIT, "-t", jump.table, "-C", jump.chain,
                                       *jump.args(), check=False)
            if check != 0:
                await self._run("iptables", "-w", LOCK_WAIT, "-t", jump.table, "-I", jump.chain, *jump.args())
                log.info("Inserted jump rule: -t %s %s -> %s", jump.table, jump.chain, jump.target)

    async def restore(self, payload: str) -> None:
        await self._run("iptables-restore", "-w", LOCK_WAIT, "--noflush", "--counters", stdin=payload)

    async def ensure_canary(self) -> None:
        for table in CANARY_TABLES:
            await self._ensure_chain(table, c.KUBE_PROXY_CANARY)

    async def canary_present(self) -> bool:
        for table in CANARY_TABLES:
            code, _ = await self._run("iptables", "-w", LOCK_WAIT, "-t", table, "-n", "-L", c.KUBE_PROXY_CANARY,
                                      check=False)
            if code != 0:
                return False
        return True


class RecordingApplier:
    """An in-memory applier for tests: records payloads and tracks which nat chains exist."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.chains: dict[str, set[str]] = {t: set() for t in ("filter", "nat", "mangle")}
        self.jumps_ensured = 0
        self.fail_next: Exception | None = None

    async def existing_chains(self, table: str) -> set[str]:
        return set(self.chains[table])

    async def ensure_jumps(self) -> None:
        self.jumps_ensured += 1
        for jump in JUMPS:
            self.chains[jump.table].add(jump.target)

    async def restore(self, payload: str) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        self.payloads.append(payload)
        table = ""
        for line in payload.splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith(":"):
                self.chains[table].add(line[1:].split()[0])
            elif line.startswith("-X "):
                self.chains[table].discard(line.split()[1])

    async def ensure_canary(self) -> None:
        for table in CANARY_TABLES:
            self.chains[table].add(c.KUBE_PROXY_CANARY)

    async def canary_present(self) -> bool:
        return all(c.KUBE_PROXY_CANARY in self.chains[t] for t in CANARY_TABLES)

    def flush_all(self) -> None:
        """What an admin's `iptables -F; iptables -X` does to the recorded state."""
        for chains in self.chains.values():
            chains.clear()

    @property
    def last(self) -> str:
        return self.payloads[-1] if self.payloads else ""
