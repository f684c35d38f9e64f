"""kube-apiserver on a real etcd over HTTPS: CRUD, resourceVersion semantics (409, 410),
watch streams, subresources, and data surviving a restart of the server."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class API:
    """Just enough of an HTTP client to speak to the server as a user's tool would."""

    def __init__(self, server: Any, session: aiohttp.ClientSession) -> None:
        self.base, self.session, self.ssl = server.url, session, server.ssl_context()

    async def req(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                  ctype: str = "application/json", headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        hdrs = {"Content-Type": ctype, **(headers or {})}
        async with self.session.request(method, self.base + path, data=data, headers=hdrs, ssl=self.ssl) as r:
            text = await r.read()
            return r.status, orjson.loads(text) if text and r.content_type == "application/json" else text

    async def watch(self, path: str) -> AsyncIterator[dict[str, Any]]:
        async with self.session.get(self.base + path, ssl=self.ssl,
                                    timeout=aiohttp.ClientTimeout(total=30)) as r:
            assert r.status == 200
            async for line in r.content:
                if line.strip():
                    yield orjson.loads(line)


@pytest.fixture
async def api(apiserver: Any) -> AsyncIterator[API]:
    async with aiohttp.ClientSession() as session:
        yield API(apiserver, session)


@pytest.fixture
async def namespace(api: API) -> str:
    name = unique("ns")
    code, _ = await api.req("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201
    return name


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}


async def test_discovery_documents_name_every_served_resource(api: API) -> None:
    code, version = await api.req("GET", "/version")
    assert code == 200 and version["gitVersion"].startswith("v1.")
    _, core = await api.req("GET", "/api/v1")
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and "watch" in pods["verbs"]
    assert {"pods/status", "pods/binding"} <= {r["name"] for r in core["resources"]}
    _, groups = await api.req("GET", "/apis")
    assert "apps" in [g["name"] for g in groups["groups"]]
    _, apps = await api.req("GET", "/apis/apps/v1")
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert scale["group"] == "autoscaling" and scale["kind"] == "Scale"
    code, status = await api.req("GET", "/apis/nope.example.com/v1/things")
    assert code == 404 and status["kind"] == "Status"


async def test_system_namespaces_and_kubernetes_service_exist(api: API) -> None:
    _, nss = await api.req("GET", "/api/v1/namespaces")
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {
        n["metadata"]["name"] for n in nss["items"]}
    _, svc = await api.req("GET", "/api/v1/namespaces/default/services/kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    _, ep = await api.req("GET", "/api/v1/namespaces/default/endpoints/kubernetes")
    assert ep["subsets"][0]["addresses"][0]["ip"] == "127.0.0.1"


async def test_create_get_update_delete_with_resource_versions(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    code, created = await api.req("POST", base, configmap("a", x="1"))
    assert code == 201
    md = created["metadata"]
    assert md["uid"] and md["creationTimestamp"] and md["namespace"] == namespace
    code, again = await api.req("POST", base, configmap("a"))
    assert code == 409 and again["reason"] == "AlreadyExists"
    assert again["message"] == 'configmaps "a" already exists'

    _, listed = await api.req("GET", base)
    assert int(listed["metadata"]["resourceVersion"]) >= int(md["resourceVersion"])
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]

    fresh = {**created, "data": {"x": "2"}}
    code, updated = await api.req("PUT", f"{base}/a", fresh)
    assert code == 200 and updated["data"] == {"x": "2"}
    code, stale = await api.req("PUT", f"{base}/a", {**created, "data": {"x": "3"}})
    assert code == 409 and stale["reason"] == "Conflict"
    assert "the object has been modified" in stale["message"]
    unconditional = {**updated, "metadata": {**updated["metadata"], "resourceVersion": ""}, "data": {"x": "4"}}
    code, _ = await api.req("PUT", f"{base}/a", unconditional)
    assert code == 200

    code, gone = await api.req("DELETE", f"{base}/a")
    assert code == 200 and gone["status"] == "Success"
    code, missing = await api.req("GET", f"{base}/a")
    assert code == 404 and missing["message"] == 'configmaps "a" not found'


async def test_create_in_missing_namespace_and_bad_bodies(api: API) -> None:
    code, status = await api.req("POST", "/api/v1/namespaces/nope/configmaps", configmap("a"))
    assert code == 404 and status["message"] == 'namespaces "nope" not found'
    code, status = await api.req("POST", "/api/v1/namespaces/default/configmaps", raw=b"{not json")
    assert code == 400 and status["reason"] == "BadRequest"
    code, status = await api.req("POST", "/api/v1/namespaces/default/configmaps",
                                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert code == 400
    code, status = await api.req("POST", "/api/v1/namespaces/default/pods",
                                 {"metadata": {"name": "p"}, "spec": {"containers": []}})
    assert code == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "spec.containers"


async def test_generate_name_and_defaults(api: API, namespace: str) -> None:
    body = pod("")
    body["metadata"] = {"generateName": "web-"}
    code, created = await api.req("POST", f"/api/v1/namespaces/{namespace}/pods", body)
    assert code == 201
    assert created["metadata"]["name"].startswith("web-") and len(created["metadata"]["name"]) == 9
    spec = created["spec"]
    assert spec["restartPolicy"] == "Always" and spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


async def test_patch_types(api: API, namespace: str) -> None:
    base = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    dep = {"metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "redis:7"}]}}}}
    code, created = await api.req("POST", base, dep)
    assert code == 201 and created["spec"]["replicas"] == 1 and created["metadata"]["generation"] == 1
    assert created["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
    smp = {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "nginx:2", "env": [{"name": "Y", "value": "2"}]},
        {"name": "b", "$patch": "delete"}]}}}}
    code, patched = await api.req("PATCH", f"{base}/web", smp, ctype="application/strategic-merge-patch+json")
    assert code == 200
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a"] and containers[0]["image"] == "nginx:2"
    assert [e["name"] for e in containers[0]["env"]] == ["X", "Y"]
    assert patched["metadata"]["generation"] == 2
    code, merged = await api.req("PATCH", f"{base}/web", {"metadata": {"labels": {"tier": "x"}}},
                                 ctype="application/merge-patch+json")
    assert code == 200 and merged["metadata"]["labels"] == {"tier": "x"} and merged["metadata"]["generation"] == 2
    code, jp = await api.req("PATCH", f"{base}/web", [{"op": "replace", "path": "/spec/replicas", "value": 4}],
                             ctype="application/json-patch+json")
    assert code == 200 and jp["spec"]["replicas"] == 4
    code, status = await api.req("PATCH", f"{base}/web/status", {"spec": {"replicas": 9}, "status": {"replicas": 4}},
                                 ctype="application/merge-patch+json")
    assert code == 200 and status["spec"]["replicas"] == 4 and status["status"]["replicas"] == 4
    code, scale = await api.req("GET", f"{base}/web/scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4 and scale["status"]["selector"] == "app=web"
    code, scale = await api.req("PATCH", f"{base}/web/scale", {"spec": {"replicas": 2}},
                                ctype="application/merge-patch+json")
    assert code == 200 and scale["spec"]["replicas"] == 2


async def test_watch_from_resource_version_sees_changes_in_order(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, listed = await api.req("GET", base)
    events: list[tuple[str, str]] = []

    async def collect() -> None:
        async for ev in api.watch(f"{base}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}"):
            events.append((ev["type"], ev["object"]["data"].get("k", "")))
            if ev["type"] == "DELETED":
                return

    # no wait for the stream to open: a watch from a resourceVersion replays every change after
    # it, so changes made before the server has started the stream must arrive all the same
    task = asyncio.create_task(collect())
    await api.req("POST", base, configmap("w", k="1"))
    await api.req("PATCH", f"{base}/w", {"data": {"k": "2"}}, ctype="application/merge-patch+json")
    await api.req("DELETE", f"{base}/w")
    await asyncio.wait_for(task, 10)
    assert events == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")]


async def test_watch_without_resource_version_starts_with_synthetic_adds(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    await api.req("POST", base, configmap("one"))
    async for ev in api.watch(f"{base}?watch=true&timeoutSeconds=5"):
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "one")
        break


async def test_label_selected_watch_reports_objects_leaving_the_selection(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, created = await api.req("POST", base, {**configmap("l"), "metadata": {"name": "l", "labels": {"app": "x"}}})
    rv = created["metadata"]["resourceVersion"]
    await api.req("PATCH", f"{base}/l", {"metadata": {"labels": {"app": "y"}}}, ctype="application/merge-patch+json")
    async for ev in api.watch(f"{base}?watch=1&labelSelector=app%3Dx&resourceVersion={rv}&timeoutSeconds=5"):
        assert ev["type"] == "DELETED" and ev["object"]["metadata"]["labels"] == {"app": "y"}
        break


async def test_watch_from_compacted_revision_is_an_expired_error_event(api: API, namespace: str,
                                                                     etcd_server: Any) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, created = await api.req("POST", base, configmap("c"))
    await api.req("PATCH", f"{base}/c", {"data": {"a": "b"}}, ctype="application/merge-patch+json")
    _, later = await api.req("POST", base, configmap("d"))
    rev = int(later["metadata"]["resourceVersion"])
    await asyncio.to_thread(subprocess.run, ["etcdctl", "--endpoints", etcd_server.url, "compact", str(rev)],
                            check=True, capture_output=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
    async for ev in api.watch(f"{base}?watch=1&resourceVersion={created['metadata']['resourceVersion']}"):
        assert ev["type"] == "ERROR"
        assert ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
        break


async def test_binding_and_graceful_pod_deletion(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/pods"
    await api.req("POST", base, pod("p"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}
    code, status = await api.req("POST", f"{base}/p/binding", binding)
    assert code == 201 and status["status"] == "Success"
    code, status = await api.req("POST", f"{base}/p/binding", binding)
    assert code == 409
    _, bound = await api.req("GET", f"{base}/p")
    assert bound["spec"]["nodeName"] == "node-1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= bound["status"]["conditions"][0].items()

    code, deleting = await api.req("DELETE", f"{base}/p")
    assert code == 200
    assert deleting["metadata"]["deletionTimestamp"] and deleting["metadata"]["deletionGracePeriodSeconds"] == 30
    code, _ = await api.req("GET", f"{base}/p")
    assert code == 200  # still there until the kubelet confirms
    code, _ = await api.req("DELETE", f"{base}/p", {"gracePeriodSeconds": 0})
    assert code == 200
    code, _ = await api.req("GET", f"{base}/p")
    assert code == 404


async def test_finalizers_hold_an_object_until_removed(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    await api.req("POST", base, {**configmap("f"), "metadata": {"name": "f", "finalizers": ["example.com/hold"]}})
    code, held = await api.req("DELETE", f"{base}/f", {"propagationPolicy": "Foreground"})
    assert code == 200
    assert held["metadata"]["finalizers"] == ["example.com/hold", "foregroundDeletion"]
    code, _ = await api.req("PATCH", f"{base}/f", {"metadata": {"finalizers": None}},
                            ctype="application/merge-patch+json")
    assert code == 200
    code, _ = await api.req("GET", f"{base}/f")
    assert code == 404


async def test_services_get_cluster_ips_from_the_range(api: API, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/services"
    svc = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    code, created = await api.req("POST", base, svc)
    assert code == 201
    ip = created["spec"]["clusterIP"]
    assert ip.startswith("10.") and created["spec"]["clusterIPs"] == [ip] and ip != "10.96.0.1"
    assert created["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    taken = {"metadata": {"name": "other"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}
    code, status = await api.req("POST", base, taken)
    assert code == 422 and "already allocated" in status["message"]
    await api.req("DELETE", f"{base}/web")
    code, _ = await api.req("POST", base, taken)
    assert code == 201  # released with the first service


async def test_table_output_for_kubectl(api: API, namespace: str) -> None:
    await api.req("POST", f"/api/v1/namespaces/{namespace}/pods", pod("t"))
    code, table = await api.req("GET", f"/api/v1/namespaces/{namespace}/pods", headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    assert code == 200 and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][:4] == ["t", "0/1", "Pending", "0"]  # RESTARTS is a string cell, as upstream
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


async def test_data_survives_an_apiserver_restart(api: API, apiserver: Any, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    _, created = await api.req("POST", base, configmap("keep", k="v"))
    apiserver.restart()
    code, got = await api.req("GET", f"{base}/keep")
    assert code == 200 and got["data"] == {"k": "v"}
    assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    _, svc = await api.req("GET", "/api/v1/namespaces/default/services/kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
