"""The control loop end to end: kube-apiserver + kube-scheduler + kube-controller-manager as
processes on loopback. A Deployment becomes bound pods, nodes get pod CIDRs, a Service gets
Endpoints once the (pretend) kubelet reports the pods ready, lost pods are replaced, and a
foreground deletion of the Deployment garbage-collects its ReplicaSet and pods before it goes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors, meta
from tests.integration.components import WAIT, Component
from tests.integration.conftest import APIServerProcess
from tests.support import eventually, holds_for

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
FOREGROUND = "foregroundDeletion"


@pytest.fixture
def components(apiserver: APIServerProcess, tmp_path: Path) -> Iterator[dict[str, Component]]:
    kubeconfig = str(apiserver.kubeconfig)
    procs = {
        "scheduler": Component("lab.kube.scheduler.main", ["--kubeconfig", kubeconfig, "--leader-elect=true"],
                               tmp_path),
        "controller-manager": Component(
            "lab.kube.controllers.main",
            ["--kubeconfig", kubeconfig, "--allocate-node-cidrs=true", "--cluster-cidr", "10.244.0.0/16",
             "--node-cidr-mask-size", "24", "--service-cluster-ip-range", "10.96.0.0/12", "--controllers=*",
             "--leader-elect=true"], tmp_path),
    }
    try:
        yield procs
    finally:
        codes = {name: p.stop() for name, p in procs.items()}
        for name, p in procs.items():
            print(f"--- {name} (exit {codes[name]}) ---\n{p.tail()}")
        assert codes == {"scheduler": 0, "controller-manager": 0}, "SIGTERM must stop components cleanly"


@pytest.fixture
async def client(apiserver: APIServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(apiserver.kubeconfig)) as c:
        yield c


def _node(name: str, flow: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubelab.test/flow": flow}}}


def _node_status() -> Obj:
    return {"status": {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                       "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"}]}}


def _deployment(app: str, flow: str) -> Obj:
    # The nodeSelector keeps the pods on this test's nodes: the session's API server also holds
    # Ready nodes that other tests registered.
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"nodeSelector": {"kubelab.test/flow": flow},
                                           "containers": [{"name": "web", "image": "registry.local/web:1",
                                                           "ports": [{"name": "http", "containerPort": 8080}],
                                                           "resources": {"requests": {"cpu": "100m"}}}]}}}}


async def _pods(client: Client, ns: str, live_only: bool = True) -> list[Obj]:
    items = (await client.list(catalog.PODS, ns))["items"]
    return [p for p in items if not (live_only and meta.is_deleting(p))]


async def _kubelet_reports_ready(client: Client, pod: Obj, cidr: str, index: int) -> None:
    ip = str(ipaddress.ip_network(cidr)[index + 2])
    now = meta.now()
    await client.patch(catalog.PODS, meta.name(pod), {"status": {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now},
                       {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                       {"type": "PodScheduled", "status": "True", "lastTransitionTime": now}]}},
        meta.namespace(pod), subresource="status")


Event = tuple[str, Obj]  # (ADDED | MODIFIED | DELETED, the object as the event carried it)


@asynccontextmanager
async def recording(client: Client, ns: str, resource_version: str,
                    resources: tuple[catalog.Resource, ...]) -> AsyncIterator[list[Event]]:
    """Every change to `resources` in `ns` after `resource_version`, in one list, while the block runs.

    A DELETED event carries the revision of the deletion as its resourceVersion, and all resources
    share etcd's one revision counter: comparing them orders changes across resources."""
    events: list[Event] = []

    async def follow(res: catalog.Resource) -> None:
        async for ev in client.watch(res, ns, resource_version=resource_version, timeout_seconds=300):
            if ev.type in ("ADDED", "MODIFIED", "DELETED"):
                events.append((ev.type, ev.object))

    tasks = [asyncio.create_task(follow(res)) for res in resources]
    try:
        yield events
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def deleted_at(events: list[Event], kind: str, name: str) -> int | None:
    """The revision at which `kind/name` was deleted, if a DELETED event for it arrived."""
    return next((int(meta.resource_version(o)) for t, o in events
                 if t == "DELETED" and o.get("kind") == kind and meta.name(o) == name), None)


def state_at(events: list[Event], kind: str, name: str, revision: int) -> Obj | None:
    """`kind/name` as stored just before `revision` (its last change before then)."""
    before = [o for t, o in events if t != "DELETED" and o.get("kind") == kind and meta.name(o) == name
              and int(meta.resource_version(o)) < revision]
    return max(before, key=lambda o: int(meta.resource_version(o)), default=None)


async def test_deployment_to_endpoints_and_garbage_collection(
        client: Client, components: dict[str, Component], kubectl: Any) -> None:
    suffix = uuid.uuid4().hex[:6]
    ns, app, nodes = f"flow-{suffix}", f"web-{suffix}", [f"w1-{suffix}", f"w2-{suffix}"]
    await client.create(catalog.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        for name in nodes:
            await client.create(catalog.NODES, _node(name, suffix))
            await client.patch(catalog.NODES, name, _node_status(), subresource="status")

        # both components answer on their health ports and took their leases
        for c in components.values():
            await eventually(lambda c=c: asyncio.to_thread(lambda: c.proc.poll() is None and c.healthz() == "ok"),
                             timeout=WAIT, what="healthz")
        for lease in ("kube-scheduler", "kube-controller-manager"):
            held = await eventually(lambda lease=lease: client.get(catalog.LEASES, lease, "kube-system"),
                                    timeout=WAIT, what=f"lease {lease}")
            assert held["spec"]["holderIdentity"]

        # nodes get distinct pod CIDRs from the cluster CIDR
        async def cidrs() -> dict[str, str] | None:
            got = {n: (await client.get(catalog.NODES, n)).get("spec", {}).get("podCIDR") for n in nodes}
            return got if all(got.values()) else None
        node_cidrs = await eventually(cidrs, timeout=WAIT, what="podCIDRs")
        assert len(set(node_cidrs.values())) == 2
        assert all(ipaddress.ip_network(c).subnet_of(ipaddress.ip_network("10.244.0.0/16"))
                   for c in node_cidrs.values())

        # a Deployment of 3 becomes 3 pods bound across both nodes
        await client.create(catalog.DEPLOYMENTS, _deployment(app, suffix), ns)

        async def bound() -> list[Obj] | None:
            pods = await _pods(client, ns)
            return pods if len(pods) == 3 and all(p["spec"].get("nodeName") for p in pods) else None
        pods = await eventually(bound, timeout=WAIT, what="3 bound pods")
        assert {p["spec"]["nodeName"] for p in pods} == set(nodes)
        [rs] = (await client.list(catalog.REPLICASETS, ns))["items"]
        assert meta.name(rs) == f"web-{meta.labels(rs)['pod-template-hash']}"
        async def scheduled_events() -> bool:  # recorded just after each binding, asynchronously
            events = (await client.list(catalog.EVENTS, ns))["items"]
            return sum(e["reason"] == "Scheduled" and e["message"].startswith(f"Successfully assigned {ns}/web-")
                       for e in events) == 3
        await eventually(scheduled_events, timeout=WAIT, what="3 Scheduled events")

        # the pretend kubelet reports them running: Endpoints and an EndpointSlice appear
        await client.create(catalog.SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                               "spec": {"selector": {"app": app},
                                                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
                            ns)
        for i, p in enumerate(pods):
            await _kubelet_reports_ready(client, p, node_cidrs[p["spec"]["nodeName"]], i)

        async def endpoints() -> Obj | None:
            ep = await client.get(catalog.ENDPOINTS, "web", ns)
            addrs = [a for s in ep.get("subsets") or [] for a in s.get("addresses") or []]
            return ep if len(addrs) == 3 else None
        ep = await eventually(endpoints, timeout=WAIT, what="3 endpoint addresses")
        assert ep["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]

        async def slices() -> list[Obj] | None:
            items = (await client.list(catalog.ENDPOINTSLICES, ns,
                                       label_selector="kubernetes.io/service-name=web"))["items"]
            return items if sum(len(s.get("endpoints") or []) for s in items) == 3 else None
        [eps] = await eventually(slices, timeout=WAIT, what="EndpointSlice with 3 endpoints")
        assert all(e["conditions"]["ready"] for e in eps["endpoints"])

        # the Deployment reports available and `kubectl rollout status` agrees
        done = await asyncio.to_thread(kubectl, "1.33", "-n", ns, "rollout", "status", "deployment/web",
                                       "--timeout=30s")
        assert done.returncode == 0, done.stderr
        assert 'deployment "web" successfully rolled out' in done.stdout
        annotate = await asyncio.to_thread(kubectl, "1.33", "-n", ns, "annotate", "deployment/web",
                                           "kubernetes.io/change-cause=first rollout")
        assert annotate.returncode == 0, annotate.stderr

        async def history() -> str | None:
            out = (await asyncio.to_thread(kubectl, "1.27", "-n", ns, "rollout", "history", "deployment/web")).stdout
            return out if "first rollout" in out else None
        out = await eventually(history, timeout=WAIT, what="the change cause in rollout history")
        assert [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()] == [["1", "first rollout"]]

        # `kubectl describe` shows the controllers' Events, worded as upstream's
        async def described(kind: str, name: str, reason: str) -> str | None:
            out = (await asyncio.to_thread(kubectl, "1.33", "-n", ns, "describe", kind, name)).stdout
            return out if reason in out else None
        out = await eventually(lambda: described("deployment", "web", "ScalingReplicaSet"), timeout=WAIT,
                               what="deployment events")
        assert f"Scaled up replica set {meta.name(rs)} to 3" in out and "deployment-controller" in out
        out = await eventually(lambda: described("replicaset", meta.name(rs), "SuccessfulCreate"), timeout=WAIT,
                               what="rs events")
        assert all(f"Created pod: {meta.name(p)}" in out for p in pods) and "replicaset-controller" in out

        # a lost pod is replaced, and the replacement is scheduled
        victim = pods[0]
        await client.delete(catalog.PODS, meta.name(victim), ns, grace_period_seconds=0)

        async def replaced() -> bool:
            now = await _pods(client, ns)
            names = {meta.name(p) for p in now}
            return len(now) == 3 and meta.name(victim) not in names and all(p["spec"].get("nodeName") for p in now)
        await eventually(replaced, timeout=WAIT, what="replacement pod")

        # Foreground deletion (`kubectl delete --cascade=foreground`), as upstream documents it: the
        # Deployment stays, with a deletionTimestamp and the foregroundDeletion finalizer, while the
        # garbage collector deletes its dependents; it goes only once they are gone from the API.
        rv = (await client.list(catalog.DEPLOYMENTS, ns))["metadata"]["resourceVersion"]
        async with recording(client, ns, rv, (catalog.DEPLOYMENTS, catalog.REPLICASETS, catalog.PODS)) as events:
            await client.delete(catalog.DEPLOYMENTS, "web", ns, propagation_policy="Foreground")
            marked = await client.get(catalog.DEPLOYMENTS, "web", ns)
            assert meta.is_deleting(marked) and FOREGROUND in meta.finalizers(marked)

            async def owners_wait() -> bool:
                """The Deployment and its ReplicaSet (itself deleted in the foreground) still there, marked."""
                owners = [await client.get(catalog.DEPLOYMENTS, "web", ns),
                          await client.get(catalog.REPLICASETS, meta.name(rs), ns)]
                return all(meta.is_deleting(o) and FOREGROUND in meta.finalizers(o) for o in owners)

            async def pods_terminating() -> list[Obj] | None:
                live = await _pods(client, ns, live_only=False)
                return live if live and all(meta.is_deleting(p) for p in live) else None
            terminating = await eventually(pods_terminating, timeout=WAIT, what="the GC to delete the pods")
            assert await owners_wait()
            # no kubelet here, so the pods stay Terminating, and foreground deletion waits for them
            await holds_for(owners_wait, 1.0, what="the Deployment and ReplicaSet waiting for their pods")

            # the pretend kubelet confirms each pod stopped (grace 0); then the owners may go
            for p in terminating:
                await client.delete(catalog.PODS, meta.name(p), ns, grace_period_seconds=0,
                                    preconditions={"uid": meta.uid(p)})
            names = [("Pod", meta.name(p)) for p in terminating] + [("ReplicaSet", meta.name(rs))]
            await eventually(lambda: all(deleted_at(events, k, n) for k, n in [*names, ("Deployment", "web")]),
                             timeout=WAIT, what="the Deployment, its ReplicaSet and pods deleted")
        owner_gone = deleted_at(events, "Deployment", "web")
        assert owner_gone is not None
        for kind, name in names:
            gone = deleted_at(events, kind, name)
            assert gone is not None and gone < owner_gone, f"{kind} {name} went at {gone}, its owner at {owner_gone}"
            owner = state_at(events, "Deployment", "web", gone)  # what a reader saw as the dependent went
            assert owner is not None and meta.is_deleting(owner) and FOREGROUND in meta.finalizers(owner), owner
        assert not (await client.list(catalog.REPLICASETS, ns))["items"] and not await _pods(client, ns, False)
    finally:
        for p in await _pods(client, ns, live_only=False):
            try:
                await client.delete(catalog.PODS, meta.name(p), ns, grace_period_seconds=0)
            except errors.APIError:
                pass
        for name in nodes:
            try:
                await client.delete(catalog.NODES, name)
            except errors.APIError:
                pass
        try:
            await client.delete(catalog.NAMESPACES, ns)
        except errors.APIError:
            pass
