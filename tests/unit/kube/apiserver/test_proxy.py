"""nodes|pods|services/proxy before any connection: the path, the `[scheme:]name[:port]` id,
where each resolves (upstream ResourceLocation) and which headers go on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.rest import proxy
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj
from tests.support import free_port


class FakeRegistry:
    def __init__(self, objects: dict[str, Obj]) -> None:
        self.objects = objects

    async def get(self, _namespace: str | None, name: str) -> Obj:
        if name not in self.objects:
            raise errors.NotFound(f'"{name}" not found')
        return self.objects[name]


def context(pods: dict[str, Obj], services: dict[str, Obj] | None = None,
            endpoints: dict[str, Obj] | None = None) -> ServerContext:
    registries = {catalog.PODS: FakeRegistry(pods), catalog.SERVICES: FakeRegistry(services or {}),
                  catalog.ENDPOINTS: FakeRegistry(endpoints or {})}
    return cast(ServerContext, SimpleNamespace(registries=registries))


def pod(ip: str, *ports: int) -> Obj:
    return {"spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": p} for p in ports]}]},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


def test_proxy_paths_are_recognized() -> None:
    assert proxy.parse("/api/v1/nodes/w1/proxy/stats/summary") == proxy.ProxyRequest("nodes", "", "w1",
                                                                                     "/stats/summary")
    assert proxy.parse("/api/v1/namespaces/ns/services/https:web:443/proxy/") == proxy.ProxyRequest(
        "services", "ns", "https:web:443", "/")
    assert proxy.parse("/api/v1/namespaces/ns/pods/web/proxy") == proxy.ProxyRequest("pods", "ns", "web", "")
    for other in ("/api/v1/nodes/w1", "/api/v1/nodes/w1/status", "/api/v1/namespaces/ns/configmaps/x/proxy/",
                  "/apis/apps/v1/namespaces/ns/pods/x/proxy/", "/api/v1/nodes//proxy/"):
        assert proxy.parse(other) is None, other


def test_ids_split_as_upstream() -> None:
    assert proxy.split_scheme_name_port("web") == ("", "web", "")
    assert proxy.split_scheme_name_port("web:http") == ("", "web", "http")
    assert proxy.split_scheme_name_port("https:web:443") == ("https", "web", "443")
    assert proxy.split_scheme_name_port(":web:443") == ("", "web", "443")
    for bad in ("ftp:web:21", "a:b:c:d", ":8080", "https::443"):
        assert proxy.split_scheme_name_port(bad) is None, bad


async def test_a_pod_resolves_to_its_ip_and_first_declared_port() -> None:
    ctx = context({"web": pod("10.1.0.5", 8080, 9090), "local": pod("127.0.0.1", 80), "pending": pod("")})
    target = await proxy.pod_target(ctx, "ns", "web")
    assert (target.url("/x"), target.tls) == ("http://10.1.0.5:8080/x", None)
    secure = await proxy.pod_target(ctx, "ns", "https:web:8443")
    assert secure.url("/") == "https://10.1.0.5:8443/" and secure.tls is not None
    for refused in ("local", "pending"):
        with pytest.raises(errors.BadRequest, match="address not allowed"):
            await proxy.pod_target(ctx, "ns", refused)
    with pytest.raises(errors.BadRequest, match='invalid pod request "gopher:web:70"'):
        await proxy.pod_target(ctx, "ns", "gopher:web:70")
    with pytest.raises(errors.NotFound):
        await proxy.pod_target(ctx, "ns", "gone")


def endpoints(*addresses: dict[str, Any]) -> Obj:
    return {"subsets": [{"addresses": list(addresses), "ports": [{"name": "http", "port": 8080}]}]}


def address(ip: str, pod_name: str) -> dict[str, Any]:
    return {"ip": ip, "targetRef": {"kind": "Pod", "name": pod_name}}


async def test_a_service_resolves_to_a_valid_endpoint_of_the_named_port() -> None:
    service = {"spec": {"ports": [{"name": "http", "port": 80}]}}
    # the stale address names a pod that no longer has it: never chosen
    ctx = context({"web": pod("10.1.0.5"), "moved": pod("10.1.0.99")}, {"web": service},
                  {"web": endpoints(address("10.1.0.7", "moved"), address("10.1.0.5", "web"))})
    for _ in range(5):
        assert (await proxy.service_target(ctx, "ns", "web:http")).url("/") == "http://10.1.0.5:8080/"
    assert (await proxy.service_target(ctx, "ns", "https:web:80")).url("/") == "https://10.1.0.5:8080/"
    with pytest.raises(errors.ServiceUnavailable, match='no service port 81 found for service "web"'):
        await proxy.service_target(ctx, "ns", "web:81")
    with pytest.raises(errors.ServiceUnavailable, match='no endpoints available for service "web:metrics"'):
        await proxy.service_target(ctx, "ns", "web:metrics")
    empty = context({}, {"web": service}, {"web": {"subsets": []}})
    with pytest.raises(errors.ServiceUnavailable, match='no endpoints available for service "web"'):
        await proxy.service_target(empty, "ns", "web:http")


def test_loopback_and_link_local_hosts_are_not_proxied() -> None:
    proxy.check_proxyable("192.0.2.10")
    for host in ("127.0.0.1", "::1", "169.254.169.254", "fe80::1"):
        with pytest.raises(errors.BadRequest, match="address not allowed"):
            proxy.check_proxyable(host)


def test_hop_by_hop_headers_and_credentials_stay_behind() -> None:
    request = SimpleNamespace(remote="192.0.2.9", headers={
        "Accept": "text/html", "Authorization": "Bearer secret", "Impersonate-User": "x",
        "Connection": "keep-alive, X-Drop",
        "X-Drop": "1", "Keep-Alive": "5", "Upgrade": "h2c", "Host": "api", "X-Forwarded-For": "198.51.100.1"})
    assert proxy.forwarded_headers(cast(Any, request)) == {
        "Accept": "text/html", "X-Forwarded-For": "198.51.100.1, 192.0.2.9"}


class Serving:
    """An aiohttp app on a free loopback port, for the duration of a `with` block."""

    def __init__(self, app: web.Application) -> None:
        self.runner, self.port = web.AppRunner(app), free_port()

    async def __aenter__(self) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self.port

    async def __aexit__(self, *_: object) -> None:
        await self.runner.cleanup()


async def test_a_request_and_its_answer_are_relayed_end_to_end() -> None:
    seen: list[Any] = []

    async def backend(request: web.Request) -> web.StreamResponse:
        seen.append((request.method, request.raw_path, dict(request.headers), await request.read()))
        if request.path == "/empty":
            return web.Response(status=204, headers={"X-Kept": "1"})
        response = web.StreamResponse(headers={"X-Kept": "1", "Connection": "close, X-Hop", "X-Hop": "1"})
        await response.prepare(request)
        await response.write(b"part1 ")
        await response.write(b"part2")
        return response
    target = web.Application()
    target.router.add_route("*", "/{tail:.*}", backend)
    async with Serving(target) as port:
        ctx = context({"web": pod("127.0.0.1")}, {"web": {"spec": {"ports": [{"name": "http", "port": 80}]}}},
                      {"web": {"subsets": [{"addresses": [address("127.0.0.1", "web")],
                                            "ports": [{"name": "http", "port": port}]}]}})
        cast(Any, ctx).kubelets = SimpleNamespace(timeout=5.0)

        async def front(request: web.Request) -> web.StreamResponse:
            found = proxy.parse(request.path)
            assert found is not None
            return await proxy.serve(ctx, request, found)
        api = web.Application()
        api.router.add_route("*", "/{tail:.*}", front)
        async with Serving(api) as api_port, aiohttp.ClientSession(auto_decompress=False) as session:
            base = f"http://127.0.0.1:{api_port}/api/v1/namespaces/ns/services/web:http/proxy"
            async with session.post(base + "/a%2Fb/?x=1&y=%20", data=b"payload",
                                    headers={"Authorization": "Bearer secret"},
                                    skip_auto_headers=("Accept-Encoding",)) as answer:
                assert (answer.status, await answer.read()) == (200, b"part1 part2")
                assert answer.headers["X-Kept"] == "1" and "X-Hop" not in answer.headers
            method, raw_path, headers, body = seen[-1]
            assert (method, raw_path, body) == ("POST", "/a%2Fb/?x=1&y=%20", b"payload")
            assert "Authorization" not in headers and "Accept-Encoding" not in headers
            async with session.get(base + "/empty") as answer:
                assert (answer.status, answer.headers["X-Kept"], await answer.read()) == (204, "1", b"")
                assert "Transfer-Encoding" not in answer.headers
