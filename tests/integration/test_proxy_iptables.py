"""kube-proxy's real IptablesApplier in network namespaces: a ClusterIP balances over three
backends, masquerades traffic from outside the cluster CIDR, stops sending to a removed
endpoint (whose KUBE-SEP chain is deleted) and refuses connections when none are left.

Topology (all inside namespaces this test creates; nothing leaves them):
    client 10.244.0.2 ── router (node: kube-proxy's rules, ip_forward) ── backend-i 10.244.i.2:8080
                                   └── uplink 10.244.250.2 (the default route; drops everything)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from lab.kube.client import Client
from lab.kube.client.fake import FakeAPI
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
from lab.kube.proxy.chains import endpoint_chain, service_chain
from lab.kube.proxy.config import ProxySettings
from lab.kube.proxy.main import run
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.syncer import IptablesApplier

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("iptables-restore"),
                       reason="needs root, iproute2 and iptables"),
]

CLUSTER_IP = "10.96.77.10"
BACKENDS = ("backend1", "backend2", "backend3")

# Answers "<name> <client address>" to every GET, so the test sees who served it and from where.
SERVER = """
import http.server, sys
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{name} {self.client_address[0]}".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("0.0.0.0", 8080), H)
print("ready", flush=True)
srv.serve_forever()
"""

# N requests, a new connection each, bounded by a timeout; prints a JSON list of answers/errors.
CLIENT = """
import json, sys, urllib.request
out = []
for _ in range(int(sys.argv[2])):
    try:
        out.append(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())
    except Exception as exc:
        out.append("error: " + type(getattr(exc, "reason", exc)).__name__)
print(json.dumps(out))
"""


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


@dataclass
class NetLab:
    prefix: str
    servers: list[subprocess.Popen[str]] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def ns(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def exec(self, role: str, *argv: str) -> str:
        return sh("ip", "netns", "exec", self.ns(role), *argv)

    def add_ns(self, role: str) -> None:
        sh("ip", "netns", "add", self.ns(role))
        self.namespaces.append(self.ns(role))
        self.exec(role, "ip", "link", "set", "lo", "up")

    def link(self, role: str, router_if: str, subnet: int) -> None:
        """A veth from the router (10.244.<subnet>.1) to `role` (10.244.<subnet>.2, default via router)."""
        sh("ip", "link", "add", "name", router_if, "netns", self.ns("router"), "type", "veth",
           "peer", "name", "eth0", "netns", self.ns(role))
        self.exec("router", "ip", "addr", "add", f"10.244.{subnet}.1/24", "dev", router_if)
        self.exec("router", "ip", "link", "set", router_if, "up")
        self.exec(role, "ip", "addr", "add", f"10.244.{subnet}.2/24", "dev", "eth0")
        self.exec(role, "ip", "link", "set", "eth0", "up")
        self.exec(role, "ip", "route", "add", "default", "via", f"10.244.{subnet}.1")

    def serve(self, role: str) -> None:
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns(role), sys.executable, "-c", SERVER, role],
                                stdout=subprocess.PIPE, text=True)
        self.servers.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"

    def requests(self, n: int, url: str = f"http://{CLUSTER_IP}:80/") -> list[str]:
        return json.loads(self.exec("client", sys.executable, "-c", CLIENT, url, str(n)))

    def close(self) -> None:
        for proc in self.servers:
            proc.kill()
            proc.wait(timeout=10)
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30, check=False)


@pytest.fixture
def netlab() -> Iterator[NetLab]:
    lab = NetLab(prefix=f"kpxt-{uuid.uuid4().hex[:6]}")
    try:
        for role in ("router", "client", *BACKENDS):
            lab.add_ns(role)
        lab.exec("router", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # REJECT answers with ICMP; the default per-peer ICMP rate limit would turn a quick
        # burst of refusals into 1 s SYN retransmits
        lab.exec("router", "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        # a node has a default route; without one, unknown service IPs die in routing before
        # the filter table can REJECT them. The "uplink" namespace drops whatever reaches it.
        lab.add_ns("uplink")
        lab.link("uplink", "u0", 250)
        lab.exec("router", "ip", "route", "add", "default", "via", "10.244.250.2")
        lab.link("client", "c0", 0)
        for i, role in enumerate(BACKENDS, start=1):
            lab.link(role, f"b{i}", i)
            lab.serve(role)
        yield lab
    finally:
        lab.close()


def web_service() -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": CLUSTER_IP, "type": "ClusterIP",
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}


def web_slice(*subnets: int) -> dict[str, Any]:
    return {"metadata": {"name": "web-x1", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [f"10.244.{i}.2"], "conditions": {"ready": True}} for i in subnets],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def names(answers: list[str]) -> Counter[str]:
    return Counter(a.split()[0] if not a.startswith("error") else a for a in answers)


async def test_cluster_ip_balances_and_follows_endpoint_changes(netlab: NetLab) -> None:
    slices = [web_slice(1, 2, 3)]
    applier = IptablesApplier(prefix=("ip", "netns", "exec", netlab.ns("router")))
    proxier = Proxier(applier, ProxierOptions(node_name="router", cluster_cidr="10.244.0.0/16"),
                      lambda: [web_service()], lambda: slices)
    await proxier.sync()
    assert proxier.healthy(), "the first sync failed"

    seen = names(netlab.requests(60))
    assert set(seen) == set(BACKENDS), seen  # 1/3 each: missing one in 60 tries is ~1e-10

    saved = netlab.exec("router", "iptables-save")
    svc = service_chain("default/web:http", "tcp")
    assert f"-j {svc}" in saved and "-j KUBE-POSTROUTING" in saved and "--probability 0.33333333" in saved

    slices[:] = [web_slice(1, 2)]  # backend3 leaves the service
    await proxier.sync()
    seen = names(netlab.requests(30))
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
                      lambda: [web_service()], lambda: [web_slice(1)])
    await proxier.sync()
    assert netlab.requests(3) == ["backend1 10.244.1.1"] * 3  # the backend sees the node, not the client

    # a second sync (as after a restart) is idempotent: no duplicate jump rules
    await proxier.sync()
    saved = netlab.exec("router", "iptables-save", "-t", "nat")
    assert saved.count("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES") == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_kube_proxy_programs_what_the_api_says(netlab: NetLab) -> None:
    """The whole component: informers on a (fake) API server, real rules in the router namespace."""
    healthz = f"http://127.0.0.1:{free_port()}/healthz"
    settings = ProxySettings(kubeconfig="unused", hostname_override="router", cluster_cidr="10.244.0.0/16",
                             min_sync_period=0.1, sync_period=30,
                             healthz_bind_address=healthz.split("/")[2], metrics_bind_address="")
    applier = IptablesApplier(prefix=("ip", "netns", "exec", netlab.ns("router")))
    async with FakeAPI() as api:
        api.seed(SERVICES, web_service())
        proxy = asyncio.create_task(run(settings, applier=applier, client_config=api.config))
        try:
            async def answers_until(expected: set[str]) -> Counter[str]:
                for _ in range(50):
                    seen = names(await asyncio.to_thread(netlab.requests, 12))
                    if set(seen) == expected:
                        return seen
                    await asyncio.sleep(0.1)
                raise AssertionError(f"never saw {expected}, last {seen}")

            status = 0
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # healthy once the first sync has programmed the rules
                    try:
                        async with http.get(healthz) as resp:
                            status = resp.status
                    except aiohttp.ClientConnectionError:
                        pass  # not listening yet
                    if status == 200:
                        break
                    await asyncio.sleep(0.05)
            assert status == 200
            await answers_until({"error: ConnectionRefusedError"})  # a service with no endpoints yet
            async with Client(api.config) as client:
                await client.create(ENDPOINTSLICES, web_slice(1, 2), namespace="default")
            await answers_until({"backend1", "backend2"})
        finally:
            proxy.cancel()
            await asyncio.gather(proxy, return_exceptions=True)
    # SIGTERM-like shutdown leaves the rules in place, as upstream kube-proxy does
    assert service_chain("default/web:http", "tcp") in netlab.exec("router", "iptables-save", "-t", "nat")
