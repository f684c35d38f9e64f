"""Node registration, status heartbeats and the node Lease, against the in-memory API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.kubelet.lease import NodeLease
from lab.kube.kubelet.node_status import NodeFactsProvider, NodeStatusManager
from lab.kube.machinery import catalog


@pytest.fixture
async def client() -> AsyncIterator[tuple[InMemoryAPI, Client]]:
    async with InMemoryAPI() as api, Client(api.config) as c:
        yield api, c


def facts() -> NodeFactsProvider:
    return NodeFactsProvider(name="w1", node_ip="192.168.56.21", hostname="w1",
                             runtime_version="containerd://1.6.20", root_dir="/")


async def test_register_posts_a_node_that_is_not_ready_until_the_network_is(client):
    api, c = client
    ready = False
    manager = NodeStatusManager(c, facts(), lambda: ready)
    await manager.register()

    node = await api.object(catalog.NODES, "w1")
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "w1" and labels["kubernetes.io/os"] == "linux"
    assert "kubernetes.io/arch" in labels
    status = node["status"]
    assert status["addresses"] == [{"type": "InternalIP", "address": "192.168.56.21"},
                                   {"type": "Hostname", "address": "w1"}]
    assert status["capacity"]["pods"] == "110" and int(status["capacity"]["cpu"]) >= 1
    assert status["capacity"]["memory"].endswith("Ki") and status["allocatable"] == status["capacity"]
    assert status["nodeInfo"]["containerRuntimeVersion"] == "containerd://1.6.20"
    assert status["nodeInfo"]["operatingSystem"] == "linux" and status["nodeInfo"]["kubeletVersion"]
    conds = {c["type"]: c for c in status["conditions"]}
    assert set(conds) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "KubeletNotReady"
    assert conds["Ready"]["message"].startswith("container runtime network not ready: NetworkReady=false")
    assert conds["MemoryPressure"]["status"] == "False"

    ready = True
    await manager.update()
    ready_cond = {c["type"]: c for c in (await api.object(catalog.NODES, "w1"))["status"]["conditions"]}["Ready"]
    assert ready_cond["status"] == "True" and ready_cond["reason"] == "KubeletReady"


async def test_a_restarted_kubelet_updates_its_existing_node(client):
    api, c = client
    await api.seed(catalog.NODES, {"metadata": {"name": "w1", "labels": {"custom": "kept"}},
                             "spec": {"podCIDR": "10.244.1.0/24"}})
    await NodeStatusManager(c, facts(), lambda: True).register()
    node = await api.object(catalog.NODES, "w1")
    assert node["spec"]["podCIDR"] == "10.244.1.0/24"
    assert node["metadata"]["labels"]["custom"] == "kept"
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "w1"


async def test_lease_is_created_owned_by_the_node_then_renewed(client):
    api, c = client
    node = await api.seed(catalog.NODES, {"metadata": {"name": "w1"}})
    lease = NodeLease(c, "w1")
    first = await lease.renew()
    assert first["metadata"]["namespace"] == "kube-node-lease"
    assert first["spec"]["holderIdentity"] == "w1" and first["spec"]["leaseDurationSeconds"] == 40
    assert first["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "w1",
                                                     "uid": node["metadata"]["uid"]}]
    second = await lease.renew()
    assert second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    assert second["spec"]["renewTime"] >= first["spec"]["renewTime"]
