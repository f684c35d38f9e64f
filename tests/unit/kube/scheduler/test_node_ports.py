"""NodePorts: two pods cannot claim the same host port and protocol on one node."""

from lab.kube.scheduler.framework import CycleState
from lab.kube.scheduler.plugins.node_ports import ERR_REASON, NodePorts
from tests.unit.kube.scheduler.builders import node, node_info, pod


def _with_port(name: str, port: int, protocol: str = "TCP", host_ip: str = "") -> dict:
    p = pod(name)
    entry = {"containerPort": 80, "hostPort": port, "protocol": protocol}
    if host_ip:
        entry["hostIP"] = host_ip
    p["spec"]["containers"][0]["ports"] = [entry]
    return p


def test_conflicting_host_port_is_rejected() -> None:
    info = node_info(node("n1"), _with_port("web", 8080))
    status = NodePorts().filter(CycleState(), _with_port("web2", 8080), info)
    assert status.reasons == [ERR_REASON]


def test_other_protocol_or_port_is_free() -> None:
    info = node_info(node("n1"), _with_port("web", 8080))
    assert NodePorts().filter(CycleState(), _with_port("dns", 8080, "UDP"), info).is_success
    assert NodePorts().filter(CycleState(), _with_port("web2", 8081), info).is_success


def test_specific_host_ips_only_conflict_with_same_ip_or_wildcard() -> None:
    info = node_info(node("n1"), _with_port("a", 53, host_ip="10.0.0.1"))
    assert NodePorts().filter(CycleState(), _with_port("b", 53, host_ip="10.0.0.2"), info).is_success
    assert not NodePorts().filter(CycleState(), _with_port("c", 53), info).is_success


def test_removing_a_pod_frees_its_port() -> None:
    holder = _with_port("web", 8080)
    info = node_info(node("n1"), holder)
    info.remove_pod(holder)
    assert NodePorts().filter(CycleState(), _with_port("web2", 8080), info).is_success
