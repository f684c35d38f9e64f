"""Pod egress masquerade for host-gw networking, one node-level chain as kubenet kept it.

Pods talking to each other (any node's podCIDR) keep their addresses; what leaves the pod
network (to the machines, the API server behind 10.96.0.1) is masqueraded to the node's
address, since nothing outside routes the pod CIDRs back. One `KUBELAB-POD-MASQ` chain for
the whole node replaces the bridge plugin's `ipMasq` (a chain and an iptables call per pod,
every sandbox start serialised on the xtables lock).
"""

from __future__ import annotations

import logging

from lab.kube.component.process import Runner

log = logging.getLogger(__name__)
CHAIN = "KUBELAB-POD-MASQ"
JUMP = ["POSTROUTING", "-m", "comment", "--comment", "kubelab pod egress masquerade", "-j", CHAIN]
MULTICAST = "224.0.0.0/4"


def masquerade_rules(own_cidr: str, pod_cidrs: list[str]) -> str:
    """`iptables-restore --noflush` input: only our chain is rewritten."""
    lines = ["*nat", f":{CHAIN} - [0:0]",
             f"-A {CHAIN} ! -s {own_cidr} -j RETURN"]
    lines += [f"-A {CHAIN} -d {cidr} -j RETURN" for cidr in sorted({own_cidr, *pod_cidrs, MULTICAST})]
    lines += [f'-A {CHAIN} -m comment --comment "pods leaving the pod network" -j MASQUERADE', "COMMIT", ""]
    return "\n".join(lines)


class PodMasquerade:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._last = ""

    async def sync(self, own_cidr: str, pod_cidrs: list[str]) -> None:
        rules = masquerade_rules(own_cidr, pod_cidrs)
        if rules == self._last:
            return
        await self.runner.run(["iptables-restore", "-w", "5", "--noflush"], input=rules)
        if (await self.runner.run(["iptables", "-w", "5", "-t", "nat", "-C", *JUMP], check=False)).code != 0:
            await self.runner.run(["iptables", "-w", "5", "-t", "nat", "-A", *JUMP])
        log.info("Pod egress masquerade for %s, except to %d pod networks", own_cidr,
                 len(set(pod_cidrs) | {own_cidr}))
        self._last = rules
