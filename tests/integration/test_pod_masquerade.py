"""The pod egress masquerade chain on real iptables, in a network namespace of its own."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator, Sequence

import pytest

from lab.kube.component.process import DEFAULT_TIMEOUT, Result, run
from lab.kube.kubelet.pod_masquerade import CHAIN, PodMasquerade
from tests.integration.conftest import needs_netns

pytestmark = [pytest.mark.integration, needs_netns]


class NamespaceRunner:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    async def run(self, argv: Sequence[str], *, input: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                  check: bool = True) -> Result:
        return await run(["ip", "netns", "exec", self.ns, *argv], input=input, timeout=timeout, check=check)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"kl-masq-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=True)


def nat(ns: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"], check=True, capture_output=True,
                         text=True).stdout
    return [line for line in out.splitlines() if CHAIN in line]


async def test_the_chain_and_its_jump_on_real_iptables(netns: str) -> None:
    masq = PodMasquerade(NamespaceRunner(netns))
    await masq.sync("10.244.1.0/24", ["10.244.2.0/24"])
    rules = nat(netns)
    assert f'-A POSTROUTING -m comment --comment "kubelab pod egress masquerade" -j {CHAIN}' in rules
    assert f"-A {CHAIN} -d 10.244.2.0/24 -j RETURN" in rules and any("-j MASQUERADE" in r for r in rules)
    again = PodMasquerade(NamespaceRunner(netns))  # a restarted kubelet
    await again.sync("10.244.1.0/24", ["10.244.2.0/24", "10.244.3.0/24"])
    rules = nat(netns)
    assert sum(r.startswith("-A POSTROUTING") for r in rules) == 1
    assert f"-A {CHAIN} -d 10.244.3.0/24 -j RETURN" in rules
    assert len([r for r in rules if r.startswith(f"-A {CHAIN}")]) == 6
