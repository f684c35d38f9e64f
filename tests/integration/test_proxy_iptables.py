"""kube-proxy's real IptablesApplier in network namespaces: a ClusterIP balances over three
backends, masquerades traffic from outside the cluster CIDR, stops sending to a removed
endpoint (whose KUBE-SEP chain is deleted) and refuses connections when none are left.

The namespaces come from the `netlab` fixture (tests/integration/conftest.py); nothing leaves them.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
from lab.kube.proxy.chains import endpoint_chain, service_chain
from lab.kube.proxy.config import ProxySettings
from lab.kube.proxy.main import run
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.syncer import IptablesApplier
from tests.integration.conftest import (
    NETLAB_BACKENDS,
    NetLab,
    answered_by,
    needs_netns,
    netlab_service,
    netlab_slice,
)
from tests.support import eventually, free_port

pytestmark = [pytest.mark.integration, needs_netns]


async def test_cluster_ip_balances_and_follows_endpoint_changes(netlab: NetLab) -> None:
    slices = [netlab_slice(1, 2, 3)]
    applier = IptablesApplier(prefix=("ip", "netns", "exec", netlab.ns("router")))
    proxier = Proxier(applier, ProxierOptions(node_name="router", cluster_cidr="10.244.0.0/16"),
                      lambda: [netlab_service()], lambda: slices)
    await proxier.sync()
    assert proxier.healthy(), "the first sync failed"

    seen = answered_by(netlab.requests(60))
    assert set(seen) == set(NETLAB_BACKENDS), seen  # 1/3 each: missing one in 60 tries is ~1e-10

    saved = netlab.exec("router", "iptables-save")
    svc = service_chain("default/web:http", "tcp")
    assert f"-j {svc}" in saved and "-j KUBE-POSTROUTING" in saved and "--probability 0.33333333" in saved

    slices[:] = [netlab_slice(1, 2)]  # backend3 leaves the service
    await proxier.sync()
    seen = answered_by(netlab.requests(30))
    assert set(seen) == {"backend1", "backend2"}, seen
    nat = netlab.exec("router", "iptables-save", "-t", "nat")
    assert endpoint_chain("default/web:http", "tcp", "10.244.3.2:8080") not in nat
    assert endpoint_chain("default/web:http", "tcp", "10.244.1.2:8080") in nat

    slices[:] = []  # no endpoints at all: refused at once by the filter table's REJECT
    await proxier.sync()
    assert set(netlab.requests(3)) == {"error: ConnectionRefusedError"}
    assert svc not in netlab.exec("router", "iptables-save", "-t", "nat")


async def test_traffic_from_outside_the_cluster_cidr_is_masqueraded(netlab: NetLab) -> None:
    applier = IptablesApplier(prefix=("ip", "netns", "exec", netlab.ns("router")))
    # the client (10.244.0.2) sits outside this cluster CIDR, so it counts as external traffic
    proxier = Proxier(applier, ProxierOptions(node_name="router", cluster_cidr="10.244.1.0/24"),
                      lambda: [netlab_service()], lambda: [netlab_slice(1)])
    await proxier.sync()
    assert netlab.requests(3) == ["backend1 10.244.1.1"] * 3  # the backend sees the node, not the client

    # a second sync (as after a restart) is idempotent: no duplicate jump rules
    await proxier.sync()
    saved = netlab.exec("router", "iptables-save", "-t", "nat")
    assert saved.count("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES") == 1


async def test_kube_proxy_programs_what_the_api_says(netlab: NetLab) -> None:
    """The whole component: informers on a (fake) API server, real rules in the router namespace."""
    healthz = f"http://127.0.0.1:{free_port()}/healthz"
    settings = ProxySettings(kubeconfig="unused", hostname_override="router", cluster_cidr="10.244.0.0/16",
                             min_sync_period=0.1, sync_period=30,
                             healthz_bind_address=healthz.split("/")[2], metrics_bind_address="")
    applier = IptablesApplier(prefix=("ip", "netns", "exec", netlab.ns("router")))
    async with InMemoryAPI() as api:
        await api.seed(SERVICES, netlab_service())
        proxy = asyncio.create_task(run(settings, applier=applier, client_config=api.config))
        try:
            async def answers_until(expected: set[str]) -> Counter[str]:
                async def answers() -> Counter[str] | None:
                    seen = answered_by(await asyncio.to_thread(netlab.requests, 12))
                    return seen if set(seen) == expected else None
                return await eventually(answers, timeout=30, what=f"answers from exactly {expected}")

            async with aiohttp.ClientSession() as http:
                async def healthy() -> bool:  # once the first sync has programmed the rules
                    try:
                        async with http.get(healthz) as resp:
                            return resp.status == 200
                    except aiohttp.ClientConnectionError:
                        return False  # not listening yet
                await eventually(healthy, timeout=10, what="kube-proxy /healthz 200")
            await answers_until({"error: ConnectionRefusedError"})  # a service with no endpoints yet
            async with Client(api.config) as client:
                await client.create(ENDPOINTSLICES, netlab_slice(1, 2), namespace="default")
            await answers_until({"backend1", "backend2"})
        finally:
            proxy.cancel()
            await asyncio.gather(proxy, return_exceptions=True)
    # SIGTERM-like shutdown leaves the rules in place, as upstream kube-proxy does
    assert service_chain("default/web:http", "tcp") in netlab.exec("router", "iptables-save", "-t", "nat")
