"""The HTTP edge on in-memory storage: Status errors from one place, Table negotiation,
watch streams with bookmarks and timeouts, and subresources, without etcd or TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from lab.kube.apiserver import bootstrap, openapi
from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage.memory import MemoryStorage

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    server = APIServer(Settings(storage_backend="memory", watch_bookmark_interval=0.2,
                                insecure_anonymous_admin=True), MemoryStorage())
    await bootstrap.run(server.context)
    async with TestClient(TestServer(server.app())) as c:
        yield c


async def call(c: TestClient, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    resp = await c.request(method, path, data=orjson.dumps(body) if body is not None else None,
                           headers={"Content-Type": "application/json", **headers})
    return resp.status, orjson.loads(await resp.read())


async def test_errors_are_statuses(client: TestClient) -> None:
    code, body = await call(client, "GET", "/api/v1/namespaces/default/pods/nope")
    assert code == 404 and body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                    "message": 'pods "nope" not found', "reason": "NotFound",
                                    "details": {"name": "nope", "kind": "pods"}, "code": 404}
    code, body = await call(client, "GET", "/api/v1/widgets")
    assert code == 404 and body["reason"] == "NotFound"
    code, body = await call(client, "POST", "/api/v1/namespaces/default/configmaps/x", {})
    assert code == 405 and body["reason"] == "MethodNotAllowed"
    code, body = await call(client, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx")
    assert code == 400 and body["message"] == "field label not supported: spec.bogus"


async def test_tables_for_one_object_and_lists(client: TestClient) -> None:
    code, table = await call(client, "GET", "/api/v1/namespaces/default", Accept=TABLE)
    assert code == 200 and table["kind"] == "Table" and table["rows"][0]["cells"][:2] == ["default", "Active"]
    code, table = await call(client, "GET", "/api/v1/namespaces?includeObject=Object", Accept=TABLE)
    assert code == 200 and table["rows"][0]["object"]["kind"] == "Namespace"


async def test_watch_sends_bookmarks_and_ends_at_its_timeout(client: TestClient) -> None:
    _, listed = await call(client, "GET", "/api/v1/namespaces/default/configmaps")
    rv = listed["metadata"]["resourceVersion"]
    resp = await client.get(f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
                            "&allowWatchBookmarks=true&timeoutSeconds=1")
    lines = [orjson.loads(line) for line in (await resp.read()).splitlines() if line.strip()]
    assert lines and {ev["type"] for ev in lines} == {"BOOKMARK"}
    assert lines[0]["object"] == {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}


async def test_watch_of_a_single_object_by_name(client: TestClient) -> None:
    await call(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "a"}})
    await call(client, "POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "b"}})
    resp = await client.get("/api/v1/watch/namespaces/default/configmaps/b?timeoutSeconds=1")
    names = [orjson.loads(line)["object"]["metadata"]["name"] for line in (await resp.read()).splitlines()]
    assert names == ["b"]


async def test_secret_string_data_is_folded_into_data(client: TestClient) -> None:
    code, secret = await call(client, "POST", "/api/v1/namespaces/default/secrets",
                              {"metadata": {"name": "s"}, "stringData": {"user": "admin"}})
    assert code == 201 and secret["data"] == {"user": "YWRtaW4="} and "stringData" not in secret
    assert secret["type"] == "Opaque"


async def test_delete_collection_by_label(client: TestClient) -> None:
    for name, app in (("a", "x"), ("b", "x"), ("c", "y")):
        await call(client, "POST", "/api/v1/namespaces/default/configmaps",
                   {"metadata": {"name": name, "labels": {"app": app}}})
    code, _ = await call(client, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dx")
    assert code == 200
    _, listed = await call(client, "GET", "/api/v1/namespaces/default/configmaps")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["c"]


async def test_openapi_and_version_routes(client: TestClient) -> None:
    resp = await client.get("/openapi/v2", headers={"Accept": openapi.PROTOBUF_V2_ACCEPT})
    assert resp.status == 200 and resp.headers["Content-Type"] == openapi.PROTOBUF_V2_CONTENT_TYPE
    assert await resp.read() == openapi.v2_protobuf()
    code, swagger = await call(client, "GET", "/openapi/v2")
    assert code == 200 and swagger["swagger"] == "2.0"
    code, index = await call(client, "GET", "/openapi/v3")
    assert code == 200 and "api/v1" in index["paths"]
    code, version = await call(client, "GET", "/version")
    assert code == 200 and version["major"] == "1"


async def test_strategic_merge_patch_takes_its_merge_keys_from_the_kinds_schema(client: TestClient) -> None:
    smp = "application/strategic-merge-patch+json"
    svc = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [
        {"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8443}]}}
    code, _ = await call(client, "POST", "/api/v1/namespaces/default/services", svc)
    assert code == 201
    code, patched = await call(client, "PATCH", "/api/v1/namespaces/default/services/web",
                               {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}}, **{"Content-Type": smp})
    assert code == 200
    assert [(p["port"], p["targetPort"]) for p in patched["spec"]["ports"]] == [(80, 8080), (443, 9443)]

    base = "/apis/apps/v1/namespaces/default/deployments"
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {
        "tolerations": [{"key": "a", "operator": "Exists"}],
        "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]}}
    dep = {"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}
    code, _ = await call(client, "POST", base, dep)
    assert code == 201
    code, patched = await call(client, "PATCH", f"{base}/web", {"spec": {"template": {"spec": {
        "tolerations": [{"key": "b", "operator": "Exists"}],
        "containers": [{"name": "web", "ports": [{"containerPort": 80, "protocol": "UDP"},
                                                 {"containerPort": 443, "name": "https"}]}]}}}},
        **{"Content-Type": smp})
    assert code == 200
    spec = patched["spec"]["template"]["spec"]
    assert [(p["containerPort"], p["name"], p["protocol"]) for p in spec["containers"][0]["ports"]] == [
        (80, "http", "UDP"), (443, "https", "TCP")]
    assert [t["key"] for t in spec["tolerations"]] == ["b"]  # no merge key upstream: replaced whole

    # an EndpointSlice's `ports` has no merge key upstream: the field name alone does not make it merge
    base = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
    eps = {"metadata": {"name": "web-1"}, "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}],
           "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    code, _ = await call(client, "POST", base, eps)
    assert code == 201
    code, patched = await call(client, "PATCH", f"{base}/web-1",
                               {"ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}, **{"Content-Type": smp})
    assert code == 200 and patched["ports"] == [{"name": "https", "port": 443, "protocol": "TCP"}]
