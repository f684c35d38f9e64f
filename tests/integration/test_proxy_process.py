"""The `kube-proxy` process itself, run as an operator would (flags, kubeconfig, SIGTERM), inside
a node's network namespace next to an API server (the real one in memory, also in that namespace).

It programs a Service the API server knows, answers /healthz, and on SIGTERM exits 0 and leaves
its rules in place, so traffic keeps flowing while it restarts.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.kube.proxy.chains import service_chain
from tests.integration.conftest import (
    NETLAB_BACKENDS,
    REPO,
    NetLab,
    answered_by,
    needs_netns,
    netlab_service,
    netlab_slice,
)

pytestmark = [pytest.mark.integration, needs_netns]

# An in-memory API server seeded from argv (JSON objects), printing its URL; lives until killed.
API_SERVER = """
import asyncio, json, sys
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
async def main():
    async with InMemoryAPI() as api:
        await api.seed(SERVICES, json.loads(sys.argv[1]))
        await api.seed(ENDPOINTSLICES, json.loads(sys.argv[2]))
        print(api.config.server, flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""

HEALTHZ = """
import sys, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:10256/healthz", timeout=2)
    print(r.status, r.read().decode())
except Exception as exc:
    print(getattr(exc, "code", 0), "")
"""


@pytest.fixture
def api_server(netlab: NetLab, tmp_path: Path) -> Iterator[Path]:
    """The API server in the router namespace, and a kubeconfig for it."""
    proc = subprocess.Popen(["ip", "netns", "exec", netlab.ns("router"), sys.executable, "-c", API_SERVER,
                             json.dumps(netlab_service()), json.dumps(netlab_slice(1, 2, 3))],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        server = proc.stdout.readline().strip()
        assert server.startswith("http://127.0.0.1:"), server
        kubeconfig = tmp_path / "kube-proxy.kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "lab",
            "clusters": [{"name": "lab", "cluster": {"server": server}}],
            "users": [{"name": "kube-proxy", "user": {}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "kube-proxy"}}]}))
        yield kubeconfig
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_kube_proxy_process_serves_traffic_and_stops_cleanly(netlab: NetLab, api_server: Path) -> None:
    proxy = subprocess.Popen(
        ["ip", "netns", "exec", netlab.ns("router"), sys.executable, "-m", "lab.kube.proxy.main",
         "--kubeconfig", str(api_server), "--hostname-override", "router", "--cluster-cidr", "10.244.0.0/16",
         "--proxy-mode", "iptables", "--iptables-min-sync-period", "100ms", "--iptables-sync-period", "30s",
         "--healthz-bind-address", "127.0.0.1:10256", "--metrics-bind-address", "127.0.0.1:10249"],
        cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        status = ""
        while time.monotonic() < deadline and not status.startswith("200"):
            time.sleep(0.1)
            status = netlab.exec("router", sys.executable, "-c", HEALTHZ).strip()
        assert status.startswith("200 ") and '"lastUpdated"' in status, status
        assert set(answered_by(netlab.requests(60))) == set(NETLAB_BACKENDS)

        proxy.send_signal(signal.SIGTERM)
        _, logs = proxy.communicate(timeout=20)
        assert proxy.returncode == 0, logs
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait(timeout=10)
    assert "Caches are synced" in logs and "kube-proxy stopped" in logs
    assert logs.splitlines()[0][0] in "IWE" and "] " in logs.splitlines()[0]  # klog-shaped lines
    # the rules outlive the process, as with upstream kube-proxy
    assert service_chain("default/web:http", "tcp") in netlab.exec("router", "iptables-save", "-t", "nat")
    assert set(answered_by(netlab.requests(12))) <= set(NETLAB_BACKENDS)
