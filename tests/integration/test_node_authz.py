"""The Node authorizer and NodeRestriction on a real kube-apiserver: a kubelet's certificate
(CN=system:node:w1, O=system:nodes) reaches only what pods bound to w1 need and writes
only w1's own objects, with upstream's 403 messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client
from lab.kube.client.config import ClientConfig
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import NODES, PODS, SECRETS
from lab.kube.machinery.user import NODES as NODES_GROUP
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from tests.integration.conftest import APIServerProcess, EtcdServer
from tests.support import eventually


@pytest.fixture(scope="module")
def node_apiserver(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    server = APIServerProcess(etcd_server.url, tmp_path_factory.mktemp("node-authz"), extra_args=(
        "--authorization-mode", "Node", "--enable-admission-plugins", "NodeRestriction",
        "--etcd-prefix", "/node-authz"))  # its own keys: the session's other server shares this etcd
    server.start()
    try:
        yield server
    finally:
        server.stop()


def config(server: APIServerProcess, cert: Path, key: Path) -> ClientConfig:
    return ClientConfig.in_memory(server.url, ca_data=server.ca_file.read_bytes(), cert_data=cert.read_bytes(),
                                  key_data=key.read_bytes())


def kubelet_credentials(server: APIServerProcess, node: str) -> tuple[Path, Path]:
    ca, _ = load_or_create_ca(server.pki_dir)
    ensure_cert(server.pki_dir, CertSpec(f"kubelet-{node}", f"system:node:{node}", (NODES_GROUP,)), ca)
    return server.pki_dir / f"kubelet-{node}.crt", server.pki_dir / f"kubelet-{node}.key"


@pytest.fixture
async def clients(node_apiserver: APIServerProcess) -> AsyncIterator[tuple[Client, Client]]:
    """(admin, the kubelet of w1)."""
    async with Client(config(node_apiserver, *node_apiserver.admin_credentials())) as admin, \
            Client(config(node_apiserver, *kubelet_credentials(node_apiserver, "w1"))) as w1:
        yield admin, w1


def pod(name: str, node: str, secret: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "s", "secret": {"secretName": secret}}]}}


def secret(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"},
            "data": {"k": "dg=="}}


async def refusal(write: Any) -> str:
    with pytest.raises(errors.Forbidden) as denied:
        await write
    return denied.value.message


async def test_a_kubelet_reaches_only_what_its_node_needs(clients: tuple[Client, Client]) -> None:
    admin, w1 = clients
    for name in ("w1", "w2"):
        await admin.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    for name in ("used", "unused", "elsewhere"):
        await admin.create(SECRETS, secret(name), "default")
    await admin.create(PODS, pod("web", "w1", "used"), "default")
    await admin.create(PODS, pod("other", "w2", "elsewhere"), "default")

    # its own Node: read and patched; w2's: neither
    assert (await w1.get(NODES, "w1"))["metadata"]["name"] == "w1"
    await w1.patch(NODES, "w1", {"metadata": {"labels": {"kubernetes.io/os": "linux"}}})
    assert await refusal(w1.patch(NODES, "w2", {"metadata": {"labels": {"x": "y"}}})) == (
        'nodes "w2" is forbidden: node "w1" is not allowed to modify node "w2"')
    assert await refusal(w1.get(NODES, "w2")) == (
        'nodes "w2" is forbidden: User "system:node:w1" cannot get resource "nodes" in API group "" at the '
        "cluster scope: node 'w1' cannot read 'w2', only its own Node object")

    # secrets: only those a pod bound to w1 uses, and only while it does
    got = await eventually(lambda: w1.get(SECRETS, "used", "default"), what="the secret web uses")
    assert got["data"] == {"k": "dg=="}
    for name in ("unused", "elsewhere"):
        assert await refusal(w1.get(SECRETS, name, "default")) == (
            f'secrets "{name}" is forbidden: User "system:node:w1" cannot get resource "secrets" in API group "" '
            "in the namespace \"default\": no relationship found between node 'w1' and this object")

    # pods: its own listed by node, status of its own only, none created
    listed = await w1.list(PODS, field_selector="spec.nodeName=w1")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["web"]
    await w1.patch(PODS, "web", {"status": {"phase": "Running"}}, "default", subresource="status")
    assert (await admin.get(PODS, "web", "default"))["status"]["phase"] == "Running"
    assert await refusal(w1.patch(PODS, "other", {"status": {"phase": "Running"}}, "default",
                                  subresource="status")) == (
        'pods "other" is forbidden: node "w1" can only update pod status for pods with spec.nodeName set to itself')
    assert await refusal(w1.create(PODS, pod("sneaky", "w1", "unused"), "default")) == (
        'pods "sneaky" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "w1" can '
        "only create mirror pods")

    await admin.delete(PODS, "web", "default", grace_period_seconds=0)

    async def lost() -> bool:
        try:
            await w1.get(SECRETS, "used", "default")
        except errors.Forbidden:
            return True
        return False
    await eventually(lost, what="the secret to be out of reach once its pod is gone")
