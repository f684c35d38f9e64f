"""NodePorts (PreFilter + Filter): a pod's hostPorts must be free on the node.

Two claims conflict when protocol and port match and the host IPs are equal or either
is the wildcard 0.0.0.0 (upstream `HostPortInfo.CheckConflict`).
"""

from __future__ import annotations

from typing import Any

from lab.kube.scheduler.framework import (
    SUCCESS,
    CycleState,
    NodeInfo,
    Status,
    host_ports,
    unschedulable,
)

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
WILDCARD = "0.0.0.0"


def conflicts(want: tuple[str, str, int], used: list[tuple[str, str, int]]) -> bool:
    proto, ip, port = want
    for u_proto, u_ip, u_port in used:
        if u_proto == proto and u_port == port and (ip == u_ip or WILDCARD in (ip, u_ip)):
            return True
    return False


class NodePorts:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        pass

    def pre_filter(self, state: CycleState, pod: dict[str, Any]) -> Status:
        state[NAME] = host_ports(pod)
        return SUCCESS

    def filter(self, state: CycleState, pod: dict[str, Any], node_info: NodeInfo) -> Status:
        wanted = state.get(NAME)
        if wanted is None:
            wanted = host_ports(pod)
        if any(conflicts(w, node_info.used_ports) for w in wanted):
            return unschedulable(ERR_REASON)
        return SUCCESS
