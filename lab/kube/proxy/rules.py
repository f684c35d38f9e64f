"""The pure rule builder: service ports in, one `iptables-restore` payload out.

The payload programs the filter and nat tables with upstream kube-proxy's chains and rule
text (pkg/proxy/iptables/proxier.go syncProxyRules), and flushes and deletes the per-service
chains of services that are gone. Nothing here touches the system; the syncer applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lab.kube.proxy import chains as c
from lab.kube.proxy.model import Endpoint, ServicePort, usable_endpoints

NODEPORTS_LAST = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'


@dataclass(frozen=True)
class RuleSet:
    """One sync's worth of rules, ready for `iptables-restore --noflush`."""

    filter_lines: tuple[str, ...]
    nat_lines: tuple[str, ...]
    nat_chains: frozenset[str]  # every nat chain this sync owns (fixed + per service)
    deleted_chains: frozenset[str] = field(default=frozenset())
    services: int = 0
    endpoints: int = 0

    @property
    def payload(self) -> str:
        return "\n".join(self.filter_lines + self.nat_lines) + "\n"


def _quote(comment: str) -> str:
    """iptables-restore splits on spaces: comments with spaces are quoted, as upstream does."""
    return f'"{comment}"' if " " in comment else comment


def probability(i: int, n: int) -> str:
    """The i-th (0-based) of n endpoints takes 1/(n-i) of what is left: `%0.10f` as upstream."""
    return f"{1.0 / (n - i):0.10f}"


class _Tables:
    """Accumulates chain declarations and rules for one table, in insertion order."""

    def __init__(self, name: str, fixed: Iterable[str]) -> None:
        self.name = name
        self.chains: list[str] = list(fixed)
        self.rules: list[str] = []

    def chain(self, chain: str) -> str:
        if chain not in self.chains:
            self.chains.append(chain)
        return chain

    def add(self, chain: str, *args: str) -> None:
        self.rules.append(" ".join(("-A", chain, *args)))

    def lines(self, extra_rules: Iterable[str] = ()) -> tuple[str, ...]:
        return (f"*{self.name}", *(f":{ch} - [0:0]" for ch in self.chains),
                *self.rules, *extra_rules, "COMMIT")


def build_rules(service_ports: Iterable[ServicePort], *, cluster_cidr: str = "", node_name: str = "",
                existing_nat_chains: Iterable[str] = (), masquerade_all: bool = False,
                masquerade_bit: int = c.MASQUERADE_BIT) -> RuleSet:
    """Rules for every service port; `existing_nat_chains` (from iptables-save) finds stale ones."""
    mark = c.masquerade_mark(masquerade_bit)
    filt = _Tables("filter", (c.KUBE_SERVICES, c.KUBE_EXTERNAL_SERVICES, c.KUBE_FORWARD, c.KUBE_NODEPORTS))
    nat = _Tables("nat", (c.KUBE_SERVICES, c.KUBE_NODEPORTS, c.KUBE_POSTROUTING, c.KUBE_MARK_MASQ))
    nat.add(c.KUBE_POSTROUTING, "-m", "mark", "!", "--mark", f"{mark}/{mark}", "-j", "RETURN")
    # clear the mark so a re-traversal (e.g. IPsec) does not masquerade twice
    nat.add(c.KUBE_POSTROUTING, "-j", "MARK", "--xor-mark", mark)
    nat.add(c.KUBE_POSTROUTING, "-m", "comment", "--comment", '"kubernetes service traffic requiring SNAT"',
            "-j", "MASQUERADE", "--random-fully")
    nat.add(c.KUBE_MARK_MASQ, "-j", "MARK", "--or-mark", mark)

    services: set[str] = set()
    n_endpoints = 0
    for sp in service_ports:
        services.add(f"{sp.namespace}/{sp.name}")
        eps = usable_endpoints(sp, node_name)
        n_endpoints += len(eps)
        if eps:
            _program_service(nat, sp, eps, cluster_cidr, masquerade_all)
        else:
            _reject_service(filt, sp)

    filt.add(c.KUBE_FORWARD, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
    filt.add(c.KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding rules"',
             "-m", "mark", "--mark", f"{mark}/{mark}", "-j", "ACCEPT")
    filt.add(c.KUBE_FORWARD, "-m", "comment", "--comment", '"kubernetes forwarding conntrack rule"',
             "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")

    owned = set(nat.chains)
    stale = sorted(ch for ch in set(existing_nat_chains) - owned if ch.startswith(c.STALE_PREFIXES))
    for ch in stale:  # declaring flushes it (a jump into it would block -X), then delete it
        nat.chain(ch)
    deletions = [f"-X {ch}" for ch in stale]
    nodeports = [(f"-A {c.KUBE_SERVICES} -m comment --comment {NODEPORTS_LAST} "
                  f"-m addrtype --dst-type LOCAL -j {c.KUBE_NODEPORTS}")]
    return RuleSet(filter_lines=filt.lines(), nat_lines=nat.lines(deletions + nodeports),
                   nat_chains=frozenset(owned), deleted_chains=frozenset(stale),
                   services=len(services), endpoints=n_endpoints)


def _proto(sp: ServicePort) -> tuple[str, ...]:
    p = sp.protocol.lower()
    return ("-m", p, "-p", p)


def _program_service(nat: _Tables, sp: ServicePort, eps: list[Endpoint], cluster_cidr: str,
                     masquerade_all: bool) -> None:
    name = sp.port_name_string
    svc = nat.chain(c.service_chain(name, sp.protocol))
    cluster_ip = ("-m", "comment", "--comment", _quote(f"{name} cluster IP"), *_proto(sp),
                  "-d", sp.cluster_ip, "--dport", str(sp.port))
    nat.add(c.KUBE_SERVICES, *cluster_ip, "-j", svc)
    if masquerade_all:
        nat.add(svc, *cluster_ip, "-j", c.KUBE_MARK_MASQ)
    elif cluster_cidr:  # traffic from outside the pod network must be SNATed to come back here
        nat.add(svc, *cluster_ip, "!", "-s", cluster_cidr, "-j", c.KUBE_MARK_MASQ)
    comment = ("-m", "comment", "--comment", _quote(name))
    if sp.node_port:
        nat.add(svc, *comment, *_proto(sp), "--dport", str(sp.node_port), "-j", c.KUBE_MARK_MASQ)
        nat.add(c.KUBE_NODEPORTS, *comment, *_proto(sp), "--dport", str(sp.node_port), "-j", svc)

    seps = [nat.chain(c.endpoint_chain(name, sp.protocol, ep.address)) for ep in eps]
    if sp.sticky_seconds:  # ClientIP affinity: a client seen recently goes back to its endpoint
        for sep in seps:
            nat.add(svc, *comment, "-m", "recent", "--name", sep, "--mask", "255.255.255.255",
                    "--rcheck", "--seconds", str(sp.sticky_seconds), "--reap", "-j", sep)
    n = len(seps)
    for i, sep in enumerate(seps):
        chance = ("-m", "statistic", "--mode", "random", "--probability", probability(i, n)) if i < n - 1 else ()
        nat.add(svc, *comment, *chance, "-j", sep)
    for ep, sep in zip(eps, seps, strict=True):
        nat.add(sep, *comment, "-s", ep.ip, "-j", c.KUBE_MARK_MASQ)  # hairpin: a pod reaching itself
        sticky = ("-m", "recent", "--name", sep, "--mask", "255.255.255.255", "--set") if sp.sticky_seconds else ()
        nat.add(sep, *comment, *_proto(sp), *sticky, "-j", "DNAT", "--to-destination", ep.address)


def _reject_service(filt: _Tables, sp: ServicePort) -> None:
    """No usable endpoint: refuse at once (ICMP port unreachable) rather than time out."""
    comment = ("-m", "comment", "--comment", f'"{sp.port_name_string} has no endpoints"')
    filt.add(c.KUBE_SERVICES, *comment, *_proto(sp), "-d", sp.cluster_ip, "--dport", str(sp.port), "-j", "REJECT")
    if sp.node_port:
        filt.add(c.KUBE_EXTERNAL_SERVICES, *comment, "-m", "addrtype", "--dst-type", "LOCAL", *_proto(sp),
                 "--dport", str(sp.node_port), "-j", "REJECT")
