"""kube-proxy as a whole against the API server in memory: informers drive syncs, /healthz and /metrics answer."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
from lab.kube.proxy.chains import endpoint_chain
from lab.kube.proxy.config import ProxySettings
from lab.kube.proxy.main import run
from lab.kube.proxy.syncer import RecordingApplier
from tests.support import eventually, free_port

from .objects import endpoint, endpoint_slice, service


async def test_kube_proxy_follows_services_and_endpoint_slices() -> None:
    healthz, metrics = free_port(), free_port()
    settings = ProxySettings(kubeconfig="unused", hostname_override="w1", cluster_cidr="10.244.0.0/16",
                             min_sync_period=0.05, sync_period=0.5,
                             healthz_bind_address=f"127.0.0.1:{healthz}", metrics_bind_address=f"127.0.0.1:{metrics}")
    rec = RecordingApplier()
    async with InMemoryAPI() as api:
        await api.seed(SERVICES, service("web", "10.96.0.10", ("http", 80, "TCP")))
        await api.seed(ENDPOINTSLICES, endpoint_slice("web", [endpoint("10.244.1.5"), endpoint("10.244.1.6")],
                                                ("http", 8080, "TCP")))
        proxy = asyncio.create_task(run(settings, applier=rec, client_config=api.config))
        try:
            await eventually(lambda: "--to-destination 10.244.1.6:8080" in rec.last)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{healthz}/healthz") as resp:
                    assert resp.status == 200
                    body = json.loads(await resp.text())
                    assert set(body) == {"lastUpdated", "currentTime"} and body["lastUpdated"].endswith("UTC")
                async with http.get(f"http://127.0.0.1:{metrics}/metrics") as resp:
                    assert "kubeproxy_sync_proxy_rules_duration_seconds_count" in await resp.text()

            # an endpoint goes away: its chain goes with it
            async with Client(api.config) as client:
                current = await client.get(ENDPOINTSLICES, "web-abcde", "default")
                await client.update(ENDPOINTSLICES, {**current, "endpoints": [endpoint("10.244.1.5")]})
            gone = endpoint_chain("default/web:http", "tcp", "10.244.1.6:8080")
            await eventually(lambda: gone not in rec.chains["nat"])

            # someone flushes iptables: the canary notices and everything comes back
            rec.flush_all()
            await eventually(lambda: "KUBE-SERVICES" in rec.chains["nat"] and rec.chains["nat"] != set())
            assert "--to-destination 10.244.1.5:8080" in rec.last
        finally:
            proxy.cancel()
            await asyncio.gather(proxy, return_exceptions=True)


async def test_healthz_answers_503_until_the_first_sync() -> None:
    from lab.kube.proxy.proxier import Proxier, ProxierOptions
    from lab.kube.proxy.server import healthz_server

    proxier = Proxier(RecordingApplier(), ProxierOptions(node_name="w1"), list, list)
    port = free_port()
    async with healthz_server(proxier).serving("127.0.0.1", port), aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 503
            assert json.loads(await resp.text())["lastUpdated"] == "0001-01-01 00:00:00 +0000 UTC"
        await proxier.sync()
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
