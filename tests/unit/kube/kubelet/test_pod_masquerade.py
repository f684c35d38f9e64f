"""Pod egress masquerade: one node-level chain, rewritten only when the pod networks change."""

from __future__ import annotations

from lab.kube.component.process import RecordingRunner, Result
from lab.kube.kubelet.pod_masquerade import CHAIN, PodMasquerade, masquerade_rules


def test_pod_networks_keep_their_addresses_and_the_rest_is_masqueraded() -> None:
    rules = masquerade_rules("10.244.1.0/24", ["10.244.2.0/24", "10.244.1.0/24"]).splitlines()
    assert rules == ["*nat", f":{CHAIN} - [0:0]", f"-A {CHAIN} ! -s 10.244.1.0/24 -j RETURN",
                     f"-A {CHAIN} -d 10.244.1.0/24 -j RETURN", f"-A {CHAIN} -d 10.244.2.0/24 -j RETURN",
                     f"-A {CHAIN} -d 224.0.0.0/4 -j RETURN",
                     f'-A {CHAIN} -m comment --comment "pods leaving the pod network" -j MASQUERADE', "COMMIT"]


async def test_the_chain_is_restored_once_and_jumped_to_once() -> None:
    jump_exists = False
    runner = RecordingRunner(lambda argv: Result(tuple(argv), 0 if jump_exists else 1, "")
                             if "-C" in argv else "")
    masq = PodMasquerade(runner)
    await masq.sync("10.244.1.0/24", ["10.244.2.0/24"])
    assert [c[0] for c in runner.commands] == ["iptables-restore", "iptables", "iptables"]
    assert runner.commands[0][-1] == "--noflush" and "-A" in runner.commands[2]
    await masq.sync("10.244.1.0/24", ["10.244.2.0/24"])  # nothing changed: nothing run
    assert len(runner.commands) == 3
    jump_exists = True
    await masq.sync("10.244.1.0/24", ["10.244.2.0/24", "10.244.3.0/24"])
    assert [c[0] for c in runner.commands[3:]] == ["iptables-restore", "iptables"]  # the jump is there already
    assert "-d 10.244.3.0/24 -j RETURN" in (runner.inputs[3] or "")
