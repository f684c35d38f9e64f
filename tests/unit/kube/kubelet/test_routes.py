"""Host-gw routes: one per other node's podCIDR, ours marked with proto 199 and cleaned up."""

from __future__ import annotations

import json

from lab.kube.component.process import RecordingRunner
from lab.kube.kubelet.host import prepare_host
from lab.kube.kubelet.routes import RouteManager, desired_routes


def node(name: str, cidr: str = "", ip: str = "") -> dict:
    return {"metadata": {"name": name}, "spec": {"podCIDR": cidr} if cidr else {},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}] if ip else []}}


NODES = [node("w1", "10.244.1.0/24", "192.168.56.21"), node("w2", "10.244.2.0/24", "192.168.56.22"),
         node("w3", "", "192.168.56.23"), node("w4", "10.244.4.0/24", "")]


def test_only_other_nodes_with_a_cidr_and_an_address_get_routes():
    assert desired_routes(NODES, "w1") == {"10.244.2.0/24": "192.168.56.22"}


async def test_sync_adds_missing_routes_and_removes_ours_for_gone_nodes():
    existing = [{"dst": "10.244.9.0/24", "gateway": "192.168.56.29", "protocol": "199"},
                {"dst": "10.244.2.0/24", "gateway": "192.168.56.99", "protocol": "199"}]
    runner = RecordingRunner(lambda argv: json.dumps(existing) if "show" in argv else "")
    await RouteManager(runner, "w1").sync(NODES)
    assert runner.commands[1:] == [
        ["ip", "route", "replace", "10.244.2.0/24", "via", "192.168.56.22", "proto", "199"],
        ["ip", "route", "del", "10.244.9.0/24", "proto", "199"]]


async def test_routes_already_right_are_left_alone():
    existing = [{"dst": "10.244.2.0/24", "gateway": "192.168.56.22"}]
    runner = RecordingRunner(lambda argv: json.dumps(existing) if "show" in argv else "")
    await RouteManager(runner, "w1").sync(NODES)
    assert len(runner.commands) == 1  # only the `ip route show`


async def test_prepare_host_turns_on_forwarding_and_bridge_netfilter(tmp_path):
    (tmp_path / "net/ipv4").mkdir(parents=True)
    (tmp_path / "net/ipv4/ip_forward").write_text("0\n")
    runner = RecordingRunner()
    await prepare_host(runner, proc_sys=tmp_path)
    assert (tmp_path / "net/ipv4/ip_forward").read_text() == "1\n"
    assert runner.commands == [["modprobe", "br_netfilter"]]  # /proc/sys/net/bridge was missing
