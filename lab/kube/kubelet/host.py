"""The kubelet's touch points on the host: the sysctls pods need (and br_netfilter for them).

Commands go through the component runner (`lab.kube.component.process`): tests pass its
RecordingRunner, the kubelet the real one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lab.kube.component.process import CommandError, Runner

__all__ = ["SYSCTLS", "prepare_host"]

log = logging.getLogger(__name__)

SYSCTLS = {"net/ipv4/ip_forward": "1", "net/bridge/bridge-nf-call-iptables": "1"}


async def prepare_host(runner: Runner, proc_sys: Path = Path("/proc/sys")) -> None:
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
