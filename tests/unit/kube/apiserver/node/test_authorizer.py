"""The Node authorizer on the server's own registries: a kubelet reads the secrets and
configmaps of pods bound to it (and loses them with the pod), its own Node and its own
pods; its refusals carry upstream's reasons; other users get no opinion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest

from lab.kube.apiserver.authz import Decision, Verdict, from_request
from lab.kube.apiserver.node import NodeAuthorizer
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery.catalog import PODS
from lab.kube.machinery.user import NODES, UserInfo
from tests.support import eventually

W1 = UserInfo("system:node:w1", groups=(NODES, "system:authenticated"))


def pod(name: str, node: str, secret: str = "", configmap: str = "") -> dict[str, Any]:
    volumes = []
    if secret:
        volumes.append({"name": "s", "secret": {"secretName": secret}})
    if configmap:
        volumes.append({"name": "c", "configMap": {"name": configmap}})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}], "volumes": volumes}}


@asynccontextmanager
async def running(api: InMemoryAPI) -> AsyncIterator[NodeAuthorizer]:
    assert api.server is not None
    authorizer = NodeAuthorizer.on(api.server.context.registries)
    task = asyncio.create_task(authorizer.run())
    try:
        assert authorizer.populator is not None
        async with asyncio.timeout(5):
            await authorizer.populator.synced.wait()
        yield authorizer
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def ask(authorizer: NodeAuthorizer, method: str, path: str, query: Mapping[str, str] | None = None,
              user: UserInfo = W1) -> Verdict:
    return await authorizer.authorize(from_request(user, method, path, query or {}))


SECRET = "/api/v1/namespaces/default/secrets/"


async def test_a_kubelet_reads_what_its_pods_use_and_loses_it_with_the_pod() -> None:
    async with InMemoryAPI() as api:
        await api.seed(PODS, pod("mine", "w1", secret="used", configmap="conf"))
        await api.seed(PODS, pod("theirs", "w2", secret="elsewhere"))
        async with running(api) as authorizer:
            assert (await ask(authorizer, "GET", SECRET + "used")).allowed
            assert (await ask(authorizer, "GET", "/api/v1/namespaces/default/configmaps/conf")).allowed
            # a single-object watch, as the kubelet's secret manager does it
            watch = await ask(authorizer, "GET", "/api/v1/namespaces/default/secrets",
                              {"watch": "true", "fieldSelector": "metadata.name=used"})
            assert watch.allowed
            assert await ask(authorizer, "GET", SECRET + "elsewhere") == Verdict(
                Decision.NO_OPINION, "no relationship found between node 'w1' and this object")
            assert await ask(authorizer, "GET", "/api/v1/namespaces/default/secrets") == Verdict(
                Decision.NO_OPINION, "No Object name found")

            await api.seed(PODS, pod("later", "w1", secret="new"))
            await eventually(lambda: _allowed(authorizer, SECRET + "new"), what="the new pod's secret")
            await api.delete(PODS, "mine", "default", grace_period_seconds=0)

            async def lost() -> bool:
                return not (await ask(authorizer, "GET", SECRET + "used")).allowed
            await eventually(lost, what="the deleted pod's secret to be out of reach")


async def _allowed(authorizer: NodeAuthorizer, path: str) -> bool:
    return (await ask(authorizer, "GET", path)).allowed


async def test_a_relist_after_expiry_catches_up_with_what_the_watch_missed() -> None:
    async with InMemoryAPI() as api:
        await api.seed(PODS, pod("mine", "w1", secret="used"))
        async with running(api) as authorizer:
            api.pause_watches()
            await api.delete(PODS, "mine", "default", grace_period_seconds=0)
            await api.seed(PODS, pod("other", "w1", secret="fresh"))
            api.compact()
            api.expire_watches()  # the watch ends with 410: the graph is listed again
            await eventually(lambda: _allowed(authorizer, SECRET + "fresh"), what="the relisted pod")
            assert not (await ask(authorizer, "GET", SECRET + "used")).allowed


async def test_reads_of_volumes_secrets_and_configmaps_are_narrow() -> None:
    authorizer = NodeAuthorizer.on({})
    cases = [
        ("DELETE", SECRET + "x", {}, "can only read resources of this type"),
        ("GET", "/api/v1/secrets", {}, "can only read namespaced object of this type"),
        ("GET", "/api/v1/namespaces/default/persistentvolumeclaims", {},
         "can only get individual resources of this type"),
        ("GET", "/api/v1/persistentvolumes/pv1", {}, "no relationship found between node 'w1' and this object"),
        ("POST", "/api/v1/namespaces/default/serviceaccounts", {},
         "can only create tokens for individual service accounts"),
        ("GET", "/api/v1/namespaces/default/serviceaccounts/default/token", {},
         "can only create tokens for individual service accounts"),
        ("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", {},
         "no relationship found between node 'w1' and this object"),
        ("PUT", "/api/v1/namespaces/default/persistentvolumeclaims/data/status", {},
         "no relationship found between node 'w1' and this object"),
    ]
    for method, path, query, reason in cases:
        assert await ask(authorizer, method, path, query) == Verdict(Decision.NO_OPINION, reason), (method, path)


async def test_a_node_reads_only_its_own_node_and_lists_only_its_own_pods() -> None:
    authorizer = NodeAuthorizer.on({})
    assert (await ask(authorizer, "GET", "/api/v1/nodes/w1")).allowed
    assert (await ask(authorizer, "GET", "/api/v1/nodes", {"fieldSelector": "metadata.name=w1"})).allowed
    assert await ask(authorizer, "GET", "/api/v1/nodes/w2") == Verdict(
        Decision.NO_OPINION, "node 'w1' cannot read 'w2', only its own Node object")
    assert await ask(authorizer, "GET", "/api/v1/nodes", {"watch": "1"}) == Verdict(
        Decision.NO_OPINION, "node 'w1' cannot read all nodes, only its own Node object")
    for method, path in (("POST", "/api/v1/nodes"), ("PATCH", "/api/v1/nodes/w2"),
                         ("PATCH", "/api/v1/nodes/w2/status")):
        assert (await ask(authorizer, method, path)).allowed, path  # NodeRestriction narrows these
    assert not (await ask(authorizer, "DELETE", "/api/v1/nodes/w1")).allowed

    assert (await ask(authorizer, "GET", "/api/v1/pods", {"fieldSelector": "spec.nodeName=w1"})).allowed
    assert await ask(authorizer, "GET", "/api/v1/pods", {"fieldSelector": "spec.nodeName=w2"}) == Verdict(
        Decision.NO_OPINION, "can only list/watch pods with spec.nodeName field selector")
    assert await ask(authorizer, "GET", "/api/v1/namespaces/default/pods/p") == Verdict(
        Decision.NO_OPINION, "no relationship found between node 'w1' and this object")
    for method, path in (("POST", "/api/v1/namespaces/default/pods"),
                         ("DELETE", "/api/v1/namespaces/default/pods/p"),
                         ("PATCH", "/api/v1/namespaces/default/pods/p/status"),
                         ("POST", "/api/v1/namespaces/default/pods/p/eviction")):
        assert (await ask(authorizer, method, path)).allowed, (method, path)
    assert not (await ask(authorizer, "PATCH", "/api/v1/namespaces/default/pods/p")).allowed
    assert not (await ask(authorizer, "POST", "/api/v1/namespaces/default/pods/p/binding")).allowed


async def test_leases_and_the_static_rules() -> None:
    authorizer = NodeAuthorizer.on({})
    lease = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/"
    assert (await ask(authorizer, "PUT", lease + "w1")).allowed
    assert (await ask(authorizer, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")).allowed
    assert await ask(authorizer, "PUT", lease + "w2") == Verdict(
        Decision.NO_OPINION, "can only access node lease with the same name as the requesting node")
    assert await ask(authorizer, "GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/w1") == Verdict(
        Decision.NO_OPINION, 'can only access leases in the "kube-node-lease" system namespace')
    assert await ask(authorizer, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases") == Verdict(
        Decision.NO_OPINION, "can only get, create, update, patch, or delete a node lease")
    allowed = [("POST", "/api/v1/namespaces/default/events"), ("GET", "/api/v1/services"),
               ("GET", "/api/v1/namespaces/default/endpoints/kubernetes"),
               ("POST", "/apis/authentication.k8s.io/v1/tokenreviews"),
               ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),
               ("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests"),
               ("GET", "/apis/node.k8s.io/v1/runtimeclasses")]
    for method, path in allowed:
        assert (await ask(authorizer, method, path)).allowed, path
    denied = [("DELETE", "/api/v1/namespaces/default/events/e"), ("GET", "/api/v1/namespaces"),
              ("GET", "/apis/apps/v1/deployments"), ("GET", "/api/v1/namespaces/default/endpoints"),
              ("GET", "/healthz")]
    for method, path in denied:
        assert await ask(authorizer, method, path) == Verdict(Decision.NO_OPINION), path


async def test_only_node_identities_are_judged() -> None:
    authorizer = NodeAuthorizer.on({})
    for user in (UserInfo("system:node:w1"), UserInfo("alice", groups=(NODES,)),
                 UserInfo("system:serviceaccount:kube-system:node")):
        assert await ask(authorizer, "GET", "/api/v1/nodes/w1", user=user) == Verdict(Decision.NO_OPINION)
    nameless = UserInfo("system:node:", groups=(NODES,))
    assert await ask(authorizer, "GET", "/api/v1/nodes/w1", user=nameless) == Verdict(
        Decision.NO_OPINION, 'unknown node for user "system:node:"')
