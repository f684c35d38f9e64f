"""Host-gw routes between nodes: `<podCIDR> via <InternalIP>` for every other node (flannel host-gw style).

Our routes carry protocol 199 (`proto 199` in `ip route`), so the kubelet can find and remove
exactly the ones it made when a node goes away, and never touches anyone else's routes.
"""

from __future__ import annotations

import ipaddress
import json
import logging

from lab.kube.component.process import Runner
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
ROUTE_PROTO = "199"  # unassigned in /etc/iproute2/rt_protos; marks kubelab's routes


def internal_ip(node: Obj) -> str:
    for addr in status_of(node).get("addresses") or []:
        if addr.get("type") == "InternalIP":
            return str(addr.get("address", ""))
    return ""


def desired_routes(nodes: list[Obj], own_node: str) -> dict[str, str]:
    """podCIDR -> gateway for every other node that has both (IPv4 only)."""
    out: dict[str, str] = {}
    for node in nodes:
        cidr, via = spec_of(node).get("podCIDR", ""), internal_ip(node)
        if meta.name(node) == own_node or not cidr or not via:
            continue
        try:
            if ipaddress.ip_network(cidr).version != 4:
                continue
        except ValueError:
            log.warning("Node %s has an invalid podCIDR %r", meta.name(node), cidr)
            continue
        out[str(ipaddress.ip_network(cidr))] = via
    return out


class RouteManager:
    def __init__(self, runner: Runner, own_node: str) -> None:
        self.runner, self.own_node = runner, own_node

    async def current(self) -> dict[str, str]:
        out = (await self.runner.run(["ip", "-json", "-4", "route", "show", "proto", ROUTE_PROTO])).stdout
        routes = json.loads(out) if out.strip() else []
        return {r["dst"]: r.get("gateway", "") for r in routes if r.get("dst")}

    async def sync(self, nodes: list[Obj]) -> None:
        want = desired_routes(nodes, self.own_node)
        have = await self.current()
        for cidr, via in sorted(want.items()):
            if have.get(cidr) != via:
                log.info("Adding route %s via %s", cidr, via)
                await self.runner.run(["ip", "route", "replace", cidr, "via", via, "proto", ROUTE_PROTO])
        for cidr in sorted(set(have) - set(want)):
            log.info("Removing route %s (its node is gone)", cidr)
            await self.runner.run(["ip", "route", "del", cidr, "proto", ROUTE_PROTO])
