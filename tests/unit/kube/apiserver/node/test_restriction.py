"""NodeRestriction: with a kubelet's identity, writes through the server's registries are
kept to the node's own objects, with upstream's messages; other users pass untouched."""

from __future__ import annotations

import base64
import copy
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab.kube.apiserver.admission import AdmissionRequest, Operation, current_request
from lab.kube.apiserver.authz import from_request
from lab.kube.apiserver.node.restriction import NodeRestriction
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import LEASES, NODES, PODS, Resource
from lab.kube.machinery.user import NODES as NODES_GROUP
from lab.kube.machinery.user import UserInfo

W1 = UserInfo("system:node:w1", groups=(NODES_GROUP, "system:authenticated"))
ADMIN = UserInfo("admin", groups=("system:masters",))
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, "serviceaccounts")
PVCS = Resource("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", True,
                "persistentvolumeclaims")


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def pod(name: str, on: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", **extra},
            "spec": {"nodeName": on, "containers": [{"name": "c", "image": "busybox"}]}}


async def refusal(write: Awaitable[Any]) -> str:
    """The message of the 403 the write gets."""
    with pytest.raises(errors.Forbidden) as denied:
        await write
    return denied.value.message


@asynccontextmanager
async def cluster() -> AsyncIterator[tuple[InMemoryAPI, NodeRestriction]]:
    async with InMemoryAPI() as api:
        assert api.server is not None
        plugin = NodeRestriction(api.server.context.registries)
        api.registry(PODS).ctx.admission.plugins.append(plugin)  # every registry shares the chain
        for name in ("w1", "w2"):
            await api.seed(NODES, node(name))
        await api.seed(PODS, pod("mine", "w1"))
        await api.seed(PODS, pod("theirs", "w2"))
        yield api, plugin


def as_user(user: UserInfo, method: str, path: str) -> None:
    """What the access edge records for a request: admission reads the user from it."""
    current_request.set(from_request(user, method, path, {}))


async def stored(api: InMemoryAPI, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
    obj = await api.object(res, name, namespace)
    assert obj is not None
    return obj


async def test_a_node_modifies_only_its_own_node_and_not_its_taints_or_protected_labels() -> None:
    async with cluster() as (api, _):
        w2 = await stored(api, NODES, "w2")
        as_user(W1, "PATCH", "/api/v1/nodes/w2")
        with pytest.raises(errors.Forbidden) as denied:
            await api.update(NODES, {**w2, "metadata": {**w2["metadata"], "labels": {"x": "y"}}})
        assert denied.value.message == 'nodes "w2" is forbidden: node "w1" is not allowed to modify node "w2"'
        assert denied.value.status()["details"] == {"name": "w2", "kind": "nodes"}

        as_user(W1, "PUT", "/api/v1/nodes/w1")
        allowed = copy.deepcopy(await stored(api, NODES, "w1"))
        allowed["metadata"]["labels"] = {"kubernetes.io/hostname": "w1", "topology.kubernetes.io/zone": "a",
                                         "node.kubernetes.io/exclude-from-external-load-balancers": "",
                                         "example.com/rack": "3", "plain": "yes"}
        w1 = await api.update(NODES, allowed)
        protected = copy.deepcopy(w1)
        protected["metadata"]["labels"].update({"node-role.kubernetes.io/control-plane": "",
                                                "node-restriction.kubernetes.io/pool": "gpu"})
        assert await refusal(api.update(NODES, protected)) == (
            'nodes "w1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool, '
            "node-role.kubernetes.io/control-plane")
        tainted = copy.deepcopy(w1)
        tainted["spec"] = {"taints": [{"key": "k", "effect": "NoSchedule"}]}
        assert await refusal(api.update(NODES, tainted)) == (
            'nodes "w1" is forbidden: node "w1" is not allowed to modify taints')
        as_user(W1, "PATCH", "/api/v1/nodes/w1/status")
        await api.update(NODES, {**w1, "status": {"capacity": {"pods": "10"}}}, subresource="status")

        as_user(ADMIN, "PUT", "/api/v1/nodes/w2")  # others are not the plugin's business
        await api.update(NODES, {**tainted, "metadata": w2["metadata"]})


async def test_a_node_registers_only_itself_with_kubelet_labels() -> None:
    async with cluster() as (api, _):
        as_user(W1, "POST", "/api/v1/nodes")
        await api.delete(NODES, "w1")
        labels = {"kubernetes.io/role": "master", "k8s.io/x": "1", "kubernetes.io/os": "linux"}
        assert await refusal(api.registry(NODES).create(None, node("w1", **labels))) == (
            'nodes "w1" is forbidden: node "w1" is not allowed to set the following labels: '
            "k8s.io/x, kubernetes.io/role")
        assert await refusal(api.registry(NODES).create(None, node("w3"))) == (
            'nodes "w3" is forbidden: node "w1" is not allowed to modify node "w3"')
        await api.registry(NODES).create(None, node("w1", **{"kubernetes.io/os": "linux"}))


async def test_only_mirror_pods_are_created_and_only_own_pods_changed() -> None:
    async with cluster() as (api, _):
        pods = api.registry(PODS)
        as_user(W1, "POST", "/api/v1/namespaces/default/pods")
        assert await refusal(pods.create("default", pod("new", "w1"))) == (
            'pods "new" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, '
            'node "w1" can only create mirror pods')
        mirror = {"annotations": {"kubernetes.io/config.mirror": "h"}}
        assert await refusal(pods.create("default", pod("static-w1", "w1", **mirror))) == (
            'pods "static-w1" is forbidden: node "w1" can only create pods with an owner reference set to itself')
        owner = {"apiVersion": "v1", "kind": "Node", "name": "w1",
                 "uid": (await stored(api, NODES, "w1"))["metadata"]["uid"], "controller": True}
        assert await refusal(pods.create("default", pod("static-w1", "w2", **mirror, ownerReferences=[owner]))) == (
            'pods "static-w1" is forbidden: node "w1" can only create pods with spec.nodeName set to itself')
        await pods.create("default", pod("static-w1", "w1", **mirror, ownerReferences=[owner]))

        mine, theirs = await stored(api, PODS, "mine", "default"), await stored(api, PODS, "theirs", "default")
        as_user(W1, "PATCH", "/api/v1/namespaces/default/pods/mine/status")
        await api.update(PODS, {**mine, "status": {"phase": "Running"}}, subresource="status")
        assert await refusal(api.update(PODS, {**theirs, "status": {"phase": "Running"}}, subresource="status")) == (
            'pods "theirs" is forbidden: node "w1" can only update pod status for pods with spec.nodeName '
            "set to itself")
        as_user(W1, "DELETE", "/api/v1/namespaces/default/pods/theirs")
        assert await refusal(api.delete(PODS, "theirs", "default")) == (
            'pods "theirs" is forbidden: node "w1" can only delete pods with spec.nodeName set to itself')
        await api.delete(PODS, "mine", "default", grace_period_seconds=0)


def request(resource: Resource, operation: Operation, namespace: str, name: str, obj: Any = None,
            old: Any = None, subresource: str = "") -> AdmissionRequest:
    return AdmissionRequest(operation, resource, namespace, name, subresource, W1, obj, old)


def token(pod: dict[str, Any], uid: str = "") -> dict[str, Any]:
    ref = {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": uid or pod["metadata"]["uid"]}
    return {"spec": {"boundObjectRef": ref}}


async def test_leases_tokens_and_evictions() -> None:
    async with cluster() as (api, plugin):
        await plugin.admit(request(LEASES, Operation.CREATE, "kube-node-lease", "w1", {}))
        assert await refusal(plugin.admit(request(LEASES, Operation.UPDATE, "kube-node-lease", "w2", {}, {}))) == (
            'leases.coordination.k8s.io "w2" is forbidden: can only access node lease with the same name as the '
            "requesting node")
        assert await refusal(plugin.admit(request(LEASES, Operation.CREATE, "default", "w1", {}))) == (
            'leases.coordination.k8s.io "w1" is forbidden: can only access leases in the "kube-node-lease" '
            "system namespace")

        mine, theirs = await stored(api, PODS, "mine", "default"), await stored(api, PODS, "theirs", "default")

        def mint(body: dict[str, Any]) -> Awaitable[None]:
            return plugin.admit(request(SERVICEACCOUNTS, Operation.CREATE, "default", "default", body,
                                        subresource="token"))
        await mint(token(mine))
        assert await refusal(mint({"spec": {}})) == (
            'serviceaccounts "default" is forbidden: node requested token not bound to a pod')
        assert await refusal(mint(token(mine, uid="u1"))) == (
            'serviceaccounts "default" is forbidden: the UID in the bound object reference (u1) does not match '
            "the UID in record. The object might have been deleted and then recreated")
        assert await refusal(mint(token(theirs))) == (
            'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a '
            "different node")

        def evict(name: str, subresource: str = "eviction") -> Awaitable[None]:
            return plugin.admit(request(PODS, Operation.CREATE, "default", name, {}, subresource=subresource))
        await evict("mine")
        assert await refusal(evict("theirs")) == (
            'pods "theirs" is forbidden: node w1 can only evict pods with spec.nodeName set to itself')
        assert await refusal(evict("mine", "exec")) == (
            "pods \"mine\" is forbidden: unexpected pod subresource \"exec\", only 'status' and 'eviction' "
            "are allowed")

        nameless = UserInfo("system:node:", groups=(NODES_GROUP,))
        lease = AdmissionRequest(Operation.CREATE, LEASES, "kube-node-lease", "x", "", nameless, {}, None)
        assert await refusal(plugin.admit(lease)) == (
            'leases.coordination.k8s.io "x" is forbidden: could not determine node from user "system:node:"')


async def test_a_node_changes_only_capacity_and_conditions_of_a_claim() -> None:
    plugin = NodeRestriction({})
    claim = {"metadata": {"name": "data", "resourceVersion": "1"}, "spec": {"resources": {}},
             "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}
    grown = copy.deepcopy(claim)
    grown["metadata"]["resourceVersion"] = "2"
    grown["status"]["capacity"] = {"storage": "2Gi"}
    grown["status"]["conditions"] = [{"type": "Resizing", "status": "True"}]
    await plugin.admit(request(PVCS, Operation.UPDATE, "default", "data", grown, claim, "status"))
    grown["status"]["phase"] = "Lost"
    assert await refusal(plugin.admit(request(PVCS, Operation.UPDATE, "default", "data", grown, claim, "status"))) == (
        'persistentvolumeclaims "data" is forbidden: node "w1" is not allowed to update fields other than '
        "status.quantity and status.conditions: status")
    assert await refusal(plugin.admit(request(PVCS, Operation.UPDATE, "default", "data", grown, claim))) == (
        'persistentvolumeclaims "data" is forbidden: may only update PVC status')


def csr(common_name: str, signer: str) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    pem = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM)
    return {"metadata": {"name": "node-csr"}, "spec": {"signerName": signer, "request": base64.b64encode(pem).decode()}}


async def test_a_node_asks_for_kubelet_certificates_only_in_its_own_name() -> None:
    plugin = NodeRestriction({})
    csrs = Resource("certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest",
                    "CertificateSigningRequest", False, "certificatesigningrequests")

    def create(body: dict[str, Any]) -> Awaitable[None]:
        return plugin.admit(request(csrs, Operation.CREATE, "", "node-csr", body))
    for signer in ("kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"):
        await create(csr("system:node:w1", signer))
        assert await refusal(create(csr("system:node:w2", signer))) == (
            'certificatesigningrequests.certificates.k8s.io "node-csr" is forbidden: can only create a node CSR '
            "with CN=system:node:w1")
    await create(csr("anyone", "example.com/other-signer"))  # other signers judge their own requests
    garbled = {"metadata": {"name": "node-csr"},
               "spec": {"signerName": "kubernetes.io/kubelet-serving", "request": "bm90IGEgY3Ny"}}
    assert (await refusal(create(garbled))).startswith(
        'certificatesigningrequests.certificates.k8s.io "node-csr" is forbidden: unable to parse csr: ')
