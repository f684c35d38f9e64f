"""Graceful node shutdown on the lab's real systemd-logind: every kubelet holds a delay lock on
shutdown and has raised logind's InhibitDelayMaxSec to its shutdownGracePeriod (30 s). What
happens on a `systemctl poweroff` is proven on a private bus (tests/integration/test_node_shutdown.py);
here the real logind must have granted what the kubelet asked for."""

from __future__ import annotations

import pytest

from tests.e2e.labdriver import Lab

pytestmark = pytest.mark.e2e


def test_every_kubelet_holds_a_shutdown_delay_lock_on_logind(lab: Lab) -> None:
    for host in (name for name in lab.hosts if name.startswith("w")):
        inhibitors = lab.ssh(host, "systemd-inhibit --list --no-pager")
        assert any(line.split()[:1] == ["kubelet"] and "shutdown" in line and line.rstrip().endswith("delay")
                   for line in inhibitors.splitlines()), inhibitors
        delay = lab.ssh(host, "busctl get-property org.freedesktop.login1 /org/freedesktop/login1 "
                              "org.freedesktop.login1.Manager InhibitDelayMaxUSec").split()
        assert delay[0] == "t" and int(delay[1]) >= 30_000_000, delay
