"""lab.kube.client against the real kube-apiserver on real etcd, over HTTPS with the kubeconfig a
user would get: the verbs a kubelet, scheduler and controller use, informers that survive a server
restart and an etcd compaction, and leader election on the Lease API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from lab.kube.client import (
    JSON_PATCH,
    STRATEGIC_MERGE_PATCH,
    Client,
    Informer,
    LeaderElector,
    load_kubeconfig,
)
from lab.kube.client.events import WARNING, EventRecorder
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import (
    CONFIGMAPS,
    DEPLOYMENTS,
    EVENTS,
    LEASES,
    NAMESPACES,
    NODES,
    PODS,
)
from tests.support import eventually, holds_for

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
WAIT = 20.0  # informer events and lease hand-overs on a shared, loaded machine


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def pod(name: str, node: str = "", labels: dict[str, str] | None = None) -> Obj:
    spec: Obj = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def configmap(name: str, **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def deployment(name: str) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}


@pytest.fixture
async def client(apiserver: Any) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(apiserver.kubeconfig)) as c:
        yield c


@pytest.fixture
async def namespace(client: Client) -> AsyncIterator[str]:
    name = unique("client")
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name


async def test_crud_round_trip_with_typed_errors(client: Client, namespace: str) -> None:
    cm = configmap("settings", a="1")
    created = await client.create(CONFIGMAPS, cm, namespace)
    assert created["metadata"]["uid"] and created["metadata"]["namespace"] == namespace

    with pytest.raises(errors.AlreadyExists):
        await client.create(CONFIGMAPS, cm, namespace)

    fetched = await client.get(CONFIGMAPS, "settings", namespace)
    updated = await client.update(CONFIGMAPS, {**fetched, "data": {"a": "2"}})
    assert updated["data"] == {"a": "2"}
    assert updated["metadata"]["resourceVersion"] != fetched["metadata"]["resourceVersion"]

    with pytest.raises(errors.Conflict):  # the stale copy loses the compare-and-swap
        await client.update(CONFIGMAPS, {**fetched, "data": {"a": "3"}})

    listed = await client.list(CONFIGMAPS, namespace)
    assert [m["metadata"]["name"] for m in listed["items"]] == ["settings"]
    assert listed["metadata"]["resourceVersion"]

    await client.delete(CONFIGMAPS, "settings", namespace)
    with pytest.raises(errors.NotFound):
        await client.get(CONFIGMAPS, "settings", namespace)


async def test_kubelet_style_status_patches(client: Client, namespace: str) -> None:
    await client.create(PODS, pod("web"), namespace)

    merged = await client.patch(PODS, "web", {"status": {"phase": "Running", "podIP": "10.244.1.5"}},
                                namespace, subresource="status")
    assert merged["status"]["phase"] == "Running" and merged["status"]["podIP"] == "10.244.1.5"

    # strategic merge: conditions merge by `type`, so Ready joins whatever is already there
    conditions = {"status": {"conditions": [{"type": "Initialized", "status": "True"}]}}
    await client.patch(PODS, "web", conditions, namespace, subresource="status",
                       content_type=STRATEGIC_MERGE_PATCH)
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    patched = await client.patch(PODS, "web", ready, namespace, subresource="status",
                                 content_type=STRATEGIC_MERGE_PATCH)
    types = {c["type"]: c["status"] for c in patched["status"]["conditions"]}
    assert types["Initialized"] == "True" and types["Ready"] == "True"

    # the status subresource ignores spec changes (upstream resets spec to the stored one)
    sneaky = await client.patch(PODS, "web", {"spec": {"activeDeadlineSeconds": 5},
                                              "status": {"phase": "Running"}},
                                namespace, subresource="status")
    assert "activeDeadlineSeconds" not in sneaky["spec"]


async def test_binding_then_list_by_node_and_labels(client: Client, namespace: str) -> None:
    node = unique("node")
    await client.create(PODS, pod("a", labels={"app": "web"}), namespace)
    await client.create(PODS, pod("b", labels={"app": "db"}), namespace)

    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "a"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    result = await client.post_subresource(PODS, "a", "binding", binding, namespace)
    assert result.get("kind") == "Status" and result.get("status") == "Success"
    assert (await client.get(PODS, "a", namespace))["spec"]["nodeName"] == node

    with pytest.raises(errors.Conflict):  # a bound pod cannot be bound again
        await client.post_subresource(PODS, "a", "binding", binding, namespace)

    on_node = await client.list(PODS, field_selector=f"spec.nodeName={node}")
    assert [p["metadata"]["name"] for p in on_node["items"]] == ["a"]
    unbound = await client.list(PODS, namespace, field_selector="spec.nodeName=")
    assert [p["metadata"]["name"] for p in unbound["items"]] == ["b"]
    web = await client.list(PODS, namespace, label_selector="app in (web,api),!canary")
    assert [p["metadata"]["name"] for p in web["items"]] == ["a"]
    not_web = await client.list(PODS, namespace, label_selector="app!=web")
    assert [p["metadata"]["name"] for p in not_web["items"]] == ["b"]

    with pytest.raises(errors.BadRequest):
        await client.list(PODS, namespace, field_selector="spec.noSuchField=x")


async def test_delete_now_with_uid_precondition(client: Client, namespace: str) -> None:
    created = await client.create(PODS, pod("doomed"), namespace)
    with pytest.raises(errors.Conflict):
        await client.delete(PODS, "doomed", namespace, grace_period_seconds=0,
                            preconditions={"uid": "not-the-uid"})
    await client.delete(PODS, "doomed", namespace, grace_period_seconds=0,
                        preconditions={"uid": created["metadata"]["uid"]})
    with pytest.raises(errors.NotFound):
        await client.get(PODS, "doomed", namespace)


async def test_watch_across_all_namespaces(client: Client) -> None:
    first, second = unique("w1"), unique("w2")
    for ns in (first, second):
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    rv = (await client.list(CONFIGMAPS))["metadata"]["resourceVersion"]
    seen: list[tuple[str, str, str]] = []

    async def follow() -> None:
        async for ev in client.watch(CONFIGMAPS, resource_version=rv, timeout_seconds=30):
            md = ev.object["metadata"]
            if md.get("namespace") in (first, second):
                seen.append((ev.type, md["namespace"], md["name"]))

    task = asyncio.create_task(follow())
    try:
        for ns in (first, second):
            await client.create(CONFIGMAPS, configmap("cm"), ns)
        await client.delete(CONFIGMAPS, "cm", first)
        await eventually(lambda: len(seen) >= 3, timeout=WAIT, what="three events from two namespaces")
    finally:
        task.cancel()
    assert seen == [("ADDED", first, "cm"), ("ADDED", second, "cm"), ("DELETED", first, "cm")]


class Recorder:
    """Handlers that keep what an informer told them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def attach(self, informer: Informer) -> None:
        informer.add_handler(lambda o: self.events.append(("add", o["metadata"]["name"])),
                             lambda _old, o: self.events.append(("update", o["metadata"]["name"])),
                             lambda o: self.events.append(("delete", o["metadata"]["name"])))

    def has(self, kind: str, name: str) -> bool:
        return (kind, name) in self.events


@asynccontextmanager
async def following(informer: Informer) -> AsyncIterator[Recorder]:
    """Run `informer` (synced) for the block, recording what its handlers hear."""
    rec = Recorder()
    rec.attach(informer)
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=20)
        yield rec
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def on_node(client: Client, namespace: str, node: str) -> Informer:
    """The kubelet's view: pods bound to `node`."""
    return Informer(client, PODS, namespace, field_selector=f"spec.nodeName={node}")


async def test_informer_with_field_selector_sees_add_update_delete(client: Client, namespace: str) -> None:
    node = unique("node")
    informer = on_node(client, namespace, node)
    async with following(informer) as rec:
        await client.create(PODS, pod("mine", node=node), namespace)
        await client.create(PODS, pod("elsewhere", node=unique("other")), namespace)
        await eventually(lambda: rec.has("add", "mine"), timeout=WAIT, what="add")
        await client.patch(PODS, "mine", {"status": {"phase": "Running"}}, namespace, subresource="status")
        await eventually(lambda: rec.has("update", "mine"), timeout=WAIT, what="update")
        await client.delete(PODS, "mine", namespace, grace_period_seconds=0)
        await eventually(lambda: rec.has("delete", "mine"), timeout=WAIT, what="delete")
        assert informer.store.keys() == []
        assert not any(name == "elsewhere" for _, name in rec.events)


def _etcdctl(etcd_url: str, *args: str) -> str:
    out = subprocess.run(["etcdctl", "--endpoints", etcd_url, *args], capture_output=True, text=True,
                         check=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/usr/local/bin:/bin"})
    return out.stdout


def _etcd_revision(etcd_url: str) -> int:
    status = json.loads(_etcdctl(etcd_url, "endpoint", "status", "-w", "json"))
    return int(status[0]["Status"]["header"]["revision"])


async def test_informer_converges_after_restart_and_compaction(apiserver: Any, etcd_server: Any,
                                                               client: Client, namespace: str) -> None:
    node = unique("node")
    for name in ("keep", "gone-while-down", "gone-after"):
        await client.create(PODS, pod(name, node=node), namespace)
    informer = on_node(client, namespace, node)
    async with following(informer) as rec:
        assert sorted(informer.store.keys()) == sorted(f"{namespace}/{n}" for n in
                                                       ("keep", "gone-while-down", "gone-after"))
        old_rv = informer.resource_version
        # while the server is away the pod disappears behind its back, then history is compacted,
        # so the informer's resourceVersion is too old to watch from: only a re-list can tell
        await asyncio.to_thread(apiserver.stop)
        try:
            keys = _etcdctl(etcd_server.url, "get", "--prefix", "--keys-only", "/registry/pods/").split()
            victim = next(k for k in keys if k.endswith(f"/{namespace}/gone-while-down"))
            _etcdctl(etcd_server.url, "del", victim)
            _etcdctl(etcd_server.url, "put", f"/kubelab-test/{namespace}", "bump")  # the delete becomes history
            _etcdctl(etcd_server.url, "compact", str(_etcd_revision(etcd_server.url)))
        finally:  # the server is shared by the whole session: always bring it back
            await asyncio.to_thread(apiserver.start)

        with pytest.raises((errors.Expired, errors.Gone)):
            async for _ in client.watch(PODS, namespace, resource_version=old_rv, timeout_seconds=5):
                pass

        await eventually(lambda: rec.has("delete", "gone-while-down"), timeout=60, what="missed delete")
        await client.create(PODS, pod("new", node=node), namespace)
        await client.delete(PODS, "gone-after", namespace, grace_period_seconds=0)
        await eventually(lambda: rec.has("add", "new") and rec.has("delete", "gone-after"), timeout=30,
                         what="events after reconnecting")
        assert sorted(informer.store.keys()) == [f"{namespace}/keep", f"{namespace}/new"]


async def test_leader_election_hands_over_on_cancel(client: Client) -> None:
    lease = unique("lease")
    leading: list[str] = []

    def candidate(identity: str) -> tuple[LeaderElector, Callable[[], Awaitable[None]]]:
        elector = LeaderElector(client, lease, "kube-system", identity, lease_duration=4.0,
                                renew_deadline=3.0, retry_period=0.5)

        async def lead() -> None:
            leading.append(identity)
            await asyncio.Event().wait()
        return elector, lead

    a, lead_a = candidate("a")
    b, lead_b = candidate("b")
    task_a = asyncio.create_task(a.run(lead_a))
    task_b = asyncio.create_task(b.run(lead_b))
    tasks = {"a": task_a, "b": task_b}
    try:
        await eventually(lambda: len(leading) == 1, timeout=WAIT, what="a first leader")
        # several retry periods (0.5 s): nobody else may start leading
        await holds_for(lambda: len(leading) == 1, 2.0, what="a single leader")
        first = leading[0]
        other = "b" if first == "a" else "a"
        assert {"a": a, "b": b}[first].is_leader and not {"a": a, "b": b}[other].is_leader

        tasks[first].cancel()
        await asyncio.gather(tasks[first], return_exceptions=True)
        await eventually(lambda: leading == [first, other], timeout=10, what="the other to take over")
        held = await client.get(LEASES, lease, "kube-system")
        assert held["spec"]["holderIdentity"] == other
        assert held["spec"]["leaseTransitions"] >= 1
    finally:
        for t in tasks.values():
            t.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_graceful_delete_of_a_bound_pod_waits_for_the_kubelet(client: Client, namespace: str) -> None:
    node = unique("node")
    created = await client.create(PODS, pod("graceful", node=node), namespace)
    # a pod on a node is only marked: the kubelet stops it, then deletes it with grace 0
    marked = await client.delete(PODS, "graceful", namespace)
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["deletionGracePeriodSeconds"] == 30
    assert (await client.get(PODS, "graceful", namespace))["metadata"]["deletionTimestamp"]
    await client.delete(PODS, "graceful", namespace, grace_period_seconds=0,
                        preconditions={"uid": created["metadata"]["uid"]})
    with pytest.raises(errors.NotFound):
        await client.get(PODS, "graceful", namespace)

    # a pod no node has picked up yet goes at once
    await client.create(PODS, pod("pending"), namespace)
    await client.delete(PODS, "pending", namespace)
    with pytest.raises(errors.NotFound):
        await client.get(PODS, "pending", namespace)


async def test_binding_moves_a_pod_into_the_kubelets_informer(client: Client, namespace: str) -> None:
    node = unique("node")
    informer = on_node(client, namespace, node)
    async with following(informer) as rec:
        await client.create(PODS, pod("to-bind"), namespace)
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "to-bind"},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        await client.post_subresource(PODS, "to-bind", "binding", binding, namespace)
        await eventually(lambda: rec.has("add", "to-bind"), timeout=WAIT, what="the bound pod to arrive")
        assert informer.store.get(f"{namespace}/to-bind")["spec"]["nodeName"] == node


async def test_node_status_patch_and_cluster_scoped_informer(client: Client) -> None:
    name = unique("node")
    informer = Informer(client, NODES)
    async with following(informer) as rec:
        await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
        status = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                             "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                             "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}}
        patched = await client.patch(NODES, name, status, subresource="status",
                                     content_type=STRATEGIC_MERGE_PATCH)
        assert patched["status"]["capacity"]["cpu"] == "2"
        await eventually(lambda: rec.has("update", name), timeout=WAIT, what="node update")
        assert informer.store.get(name)["status"]["conditions"][0]["type"] == "Ready"
        await client.delete(NODES, name)
        await eventually(lambda: rec.has("delete", name), timeout=WAIT, what="node delete")


async def test_label_selector_informer_sees_objects_leave_and_join(client: Client, namespace: str) -> None:
    selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"
    async with following(Informer(client, CONFIGMAPS, namespace, label_selector=selector)) as rec:
        await client.create(CONFIGMAPS, configmap("s"), namespace)
        await eventually(lambda: rec.has("add", "s"), timeout=WAIT, what="add")
        await client.patch(CONFIGMAPS, "s", {"metadata": {"labels": {"service.kubernetes.io/headless": ""}}},
                           namespace)
        await eventually(lambda: rec.has("delete", "s"), timeout=WAIT, what="leaving the selector reads as a delete")
        await client.patch(CONFIGMAPS, "s", {"metadata": {"labels": {"service.kubernetes.io/headless": None}}},
                           namespace)
        await eventually(lambda: rec.events.count(("add", "s")) == 2, timeout=WAIT,
                         what="joining again reads as an add")


async def test_list_pages_with_limit_and_continue(client: Client, namespace: str) -> None:
    for i in range(5):
        await client.create(CONFIGMAPS, configmap(f"page-{i}"), namespace)
    first = await client.request("GET", CONFIGMAPS.path(namespace), params={"limit": "2"})
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    assert first["metadata"]["remainingItemCount"] == 3
    everything = await client.list(CONFIGMAPS, namespace, limit=2)
    assert [m["metadata"]["name"] for m in everything["items"]] == [f"page-{i}" for i in range(5)]


async def test_update_status_subresource_and_json_patch(client: Client, namespace: str) -> None:
    created = await client.create(DEPLOYMENTS, deployment("d"), namespace)
    assert created["metadata"]["generation"] == 1
    status = {**created, "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1}}
    written = await client.update(DEPLOYMENTS, status, subresource="status")
    assert written["status"]["readyReplicas"] == 1 and written["metadata"]["generation"] == 1
    scaled = await client.patch(DEPLOYMENTS, "d", [{"op": "replace", "path": "/spec/replicas", "value": 3}],
                                namespace, content_type=JSON_PATCH)
    assert scaled["spec"]["replicas"] == 3 and scaled["metadata"]["generation"] == 2


async def test_concurrent_patches_all_land(client: Client, namespace: str) -> None:
    """Patches without a resourceVersion never conflict: the server retries its compare-and-swap."""
    await client.create(CONFIGMAPS, configmap("hot"), namespace)
    await asyncio.gather(*(client.patch(CONFIGMAPS, "hot", {"metadata": {"labels": {f"l{i}": "x"}}}, namespace)
                           for i in range(20)))
    labels = (await client.get(CONFIGMAPS, "hot", namespace))["metadata"]["labels"]
    assert sorted(labels) == sorted(f"l{i}" for i in range(20))


async def test_a_large_object_crosses_the_watch_stream(client: Client, namespace: str) -> None:
    rv = (await client.list(CONFIGMAPS, namespace))["metadata"]["resourceVersion"]
    big = "x" * 400_000  # beyond aiohttp's 128 KiB line limit

    async def first_event() -> Obj:
        async for ev in client.watch(CONFIGMAPS, namespace, resource_version=rv, timeout_seconds=20):
            return ev.object
        raise AssertionError("the watch ended without an event")

    task = asyncio.create_task(first_event())
    await client.create(CONFIGMAPS, configmap("big", blob=big), namespace)
    obj = await asyncio.wait_for(task, 20)
    assert obj["data"]["blob"] == big


async def test_a_watch_with_a_timeout_ends_cleanly(client: Client, namespace: str) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = [ev async for ev in client.watch(CONFIGMAPS, namespace, resource_version="0", timeout_seconds=1)]
    assert loop.time() - started < 10
    assert all(ev.type in ("ADDED", "BOOKMARK") for ev in events)


@pytest.mark.parametrize(("policy", "finalizer"), [("Foreground", "foregroundDeletion"), ("Orphan", "orphan")])
async def test_delete_propagation_leaves_the_garbage_collectors_finalizer(
        client: Client, namespace: str, policy: str, finalizer: str) -> None:
    await client.create(DEPLOYMENTS, deployment("owner"), namespace)
    await client.delete(DEPLOYMENTS, "owner", namespace, propagation_policy=policy)
    held = await client.get(DEPLOYMENTS, "owner", namespace)
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == [finalizer]
    # the garbage collector finishes by removing its finalizer; the object then goes
    await client.patch(DEPLOYMENTS, "owner", {"metadata": {"finalizers": None}}, namespace)
    with pytest.raises(errors.NotFound):
        await client.get(DEPLOYMENTS, "owner", namespace)


async def test_leader_election_rides_out_an_apiserver_restart(apiserver: Any, client: Client) -> None:
    """A restart shorter than the renew deadline costs nobody their lease, and no candidate dies."""
    lease = unique("lease")
    leading: list[str] = []
    electors = {i: LeaderElector(client, lease, "kube-system", i, lease_duration=15.0, renew_deadline=10.0,
                                 retry_period=0.3) for i in ("a", "b")}

    def lead(identity: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            leading.append(identity)
            await asyncio.Event().wait()
        return work

    tasks = {i: asyncio.create_task(e.run(lead(i))) for i, e in electors.items()}

    async def renew_time() -> str:
        return str((await client.get(LEASES, lease, "kube-system"))["spec"]["renewTime"])

    async def talked_to_the_server() -> bool:
        """The follower has read the lease (it knows the leader) and the leader has renewed it once."""
        spec = (await client.get(LEASES, lease, "kube-system"))["spec"]
        return all(e.leader == leading[0] for e in electors.values()) and spec["renewTime"] != spec["acquireTime"]

    def steady() -> bool:
        return leading == [first] and electors[first].is_leader and not any(t.done() for t in tasks.values())
    try:
        await eventually(lambda: len(leading) == 1, timeout=WAIT, what="a leader")
        first = leading[0]
        # both candidates have pooled connections to the old server
        await eventually(talked_to_the_server, timeout=WAIT, what="both candidates to use the lease")
        await asyncio.to_thread(apiserver.restart)
        after_restart = await renew_time()
        # several retry periods (0.3 s) against the new server: same leader, no candidate died
        await holds_for(steady, 3.0, what=f"{first} leading alone with both candidates running")
        assert await renew_time() != after_restart, "the leader renewed against the new server"
    finally:
        for t in tasks.values():
            t.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_requests_after_an_apiserver_restart_succeed(apiserver: Any, client: Client) -> None:
    """Connections pooled before a restart are dead after it; the next request must still work."""
    await client.get(NAMESPACES, "default")
    await asyncio.to_thread(apiserver.restart)
    for _ in range(3):
        assert (await client.get(NAMESPACES, "default"))["metadata"]["name"] == "default"


async def test_recorded_events_show_in_kubectl_describe(apiserver: Any, kubectl: Any, client: Client,
                                                       namespace: str) -> None:
    created = await client.create(PODS, pod("described"), namespace)
    node = await client.create(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": unique("n")}})
    recorder = EventRecorder(client, "default-scheduler")
    for _ in range(3):  # repeats fold into one Event with a count
        await recorder.record(created, WARNING, "FailedScheduling", "0/1 nodes are available.")
    await recorder.record(node, "Normal", "NodeReady", "Node is ready")
    listed = await client.list(EVENTS, namespace, field_selector=f"involvedObject.uid={created['metadata']['uid']}")
    assert [(e["reason"], e["count"]) for e in listed["items"]] == [("FailedScheduling", 3)]
    node_events = await client.list(EVENTS, "default", field_selector=f"involvedObject.name={node['metadata']['name']}")
    assert [e["reason"] for e in node_events["items"]] == ["NodeReady"]

    for version in ("1.27", "1.33"):
        out = await asyncio.to_thread(kubectl, version, "-n", namespace, "describe", "pod", "described")
        assert out.returncode == 0, out.stderr
        events = out.stdout.split("Events:")[1].splitlines()
        assert events[1].split()[:3] == ["Type", "Reason", "Age"]
        row = events[3].split()
        assert row[:2] == ["Warning", "FailedScheduling"] and "(x3" in events[3]
        assert "default-scheduler" in events[3] and events[3].rstrip().endswith("0/1 nodes are available.")
        out = await asyncio.to_thread(kubectl, version, "describe", "node", node["metadata"]["name"])
        assert out.returncode == 0, out.stderr
        assert "NodeReady" in out.stdout.split("Events:")[1]
