"""The shared health server: ok while checks pass, 500 naming the failed check, extra routes."""

from __future__ import annotations

import socket

import aiohttp
from aiohttp import web

from lab.kube.component import HealthServer
from tests.support import free_port


async def _get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text()


async def test_all_health_paths_answer_ok() -> None:
    port = free_port()
    async with HealthServer().serving("127.0.0.1", port):
        for path in ("/healthz", "/livez", "/readyz"):
            assert await _get(port, path) == (200, "ok")
        status, body = await _get(port, "/healthz?verbose")
        assert status == 200 and body == "[+]ping ok\nhealthz check passed\n"


async def test_a_failing_check_fails_only_its_paths() -> None:
    port, synced = free_port(), False
    server = HealthServer()
    server.add_check("informer-sync", lambda: synced, paths=("/readyz",))
    async with server.serving("127.0.0.1", port):
        status, body = await _get(port, "/readyz")
        assert status == 500 and "[-]informer-sync failed: reason withheld" in body
        assert body.endswith("readyz check failed\n")
        assert await _get(port, "/livez") == (200, "ok")
        synced = True
        assert await _get(port, "/readyz") == (200, "ok")


async def test_components_add_routes_and_replace_health_paths() -> None:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text="metric 1\n")

    async def custom(_: web.Request) -> web.Response:
        return web.Response(text='{"lastUpdated": "x"}', status=503)

    port = free_port()
    server = HealthServer()
    server.add_route("/metrics", metrics)
    server.add_route("/healthz", custom)
    async with server.serving("127.0.0.1", port):
        assert await _get(port, "/metrics") == (200, "metric 1\n")
        assert await _get(port, "/healthz") == (503, '{"lastUpdated": "x"}')
        assert await _get(port, "/livez") == (200, "ok")


async def test_port_zero_serves_nothing_and_stop_frees_the_port() -> None:
    async with HealthServer().serving("127.0.0.1", 0) as server:
        assert server.failed("/healthz") == []
    port = free_port()
    async with HealthServer().serving("127.0.0.1", port):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # released on exit
