"""nodes/proxy, pods/proxy and services/proxy end to end: real kubectl 1.27 and 1.33 → the real
API server → over TLS with its kubelet client certificate to the real kubelet, or over HTTP to a
pod real containerd runs (busybox httpd), found through the pod or the service's endpoints.
(`kubectl logs` itself is covered by test_pod_logs.py.)"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery import catalog, errors
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from tests.integration.conftest import APIServerProcess, Kubectl
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration
MINORS = (27, 33)
WEB = "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www"


def host_ip() -> str:
    """A non-loopback address of this machine: upstream refuses to proxy to loopback nodes."""
    found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    ipv4 = [a for a in found if "." in a and not a.startswith("127.")]
    if not ipv4:
        pytest.skip("no non-loopback IPv4 address to run the kubelet on")
    return ipv4[0]


def web_pod(node: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default",
                                                            "labels": {"app": "web"}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{
                "name": "web", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["/bin/sh", "-c", WEB],
                "ports": [{"name": "http", "containerPort": 8080}]}]}}


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> Any:  # noqa: F811
    """A kubelet on this machine's address, running `web`, with a `web` service whose endpoints
    name it (written here as the endpoints controller would)."""
    name = f"kt-proxy-{containerd.bridge}"
    ip = host_ip()
    settings = KubeletSettings(node_name=name, node_ip=ip, root_dir=str(tmp_path),
                               container_runtime_endpoint=containerd.endpoint, cni_conf_dir=str(tmp_path / "net.d"),
                               healthz_port=0, address=ip, port=free_port(),
                               client_ca_file=str(apiserver.pki_dir / "ca.crt"),
                               node_status_update_frequency=1.0, pod_cidr_routes=False)
    config = load_kubeconfig(str(apiserver.kubeconfig))
    kubelet = asyncio.create_task(run(settings, client_config=config))
    image = f"{containerd.registry}/busybox:test"
    async with Client(config) as client:
        try:
            await eventually(lambda: client.get(catalog.NODES, name), timeout=30, what="node registration")
            await client.patch(catalog.NODES, name, {"spec": {"podCIDR": containerd.subnet}})
            await client.create(catalog.PODS, web_pod(name, image))

            async def pod_ip() -> str | None:
                got = await client.get(catalog.PODS, "web", "default")
                status = got.get("status") or {}
                return status.get("podIP") if status.get("phase") == "Running" else None
            address = await eventually(pod_ip, timeout=60, what="web Running")
            await client.create(catalog.SERVICES, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
            await client.create(catalog.ENDPOINTS, {
                "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                "subsets": [{"addresses": [{"ip": address, "targetRef": {"kind": "Pod", "name": "web",
                                                                           "namespace": "default"}}],
                             "ports": [{"name": "http", "port": 8080}]}]})
            yield name
        finally:
            for res, obj in ((catalog.ENDPOINTS, "web"), (catalog.SERVICES, "web")):
                with contextlib.suppress(errors.NotFound):
                    await client.delete(res, obj, "default")
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.PODS, "web", "default", grace_period_seconds=0)
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            async with RemoteRuntime(containerd.endpoint) as rt:
                for sandbox in await rt.list_pod_sandbox({lbl.POD_NAME: "web"}):
                    await rt.stop_pod_sandbox(sandbox.id)
                    await rt.remove_pod_sandbox(sandbox.id)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.NODES, name)


async def raw(kubectl: Kubectl, minor: int, path: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.to_thread(kubectl, minor, "get", "--raw", path, *args)
    return proc.returncode, proc.stdout, proc.stderr


def user_kubeconfig(server: APIServerProcess, user: str) -> Path:
    """The admin's kubeconfig with a client certificate for `user` (no groups, no bindings)."""
    path = server.workdir / f"{user}.kubeconfig"
    ca, _ = load_or_create_ca(server.pki_dir)
    ensure_cert(server.pki_dir, CertSpec(user, user, ()), ca)
    config = server.kubeconfig.read_text()
    for mine, theirs in zip((server.pki_dir / f"{user}.crt", server.pki_dir / f"{user}.key"),
                            server.admin_credentials(), strict=True):
        config = config.replace(base64.b64encode(theirs.read_bytes()).decode(),
                                base64.b64encode(mine.read_bytes()).decode())
    path.write_text(config)
    return path


@pytest.mark.parametrize("minor", MINORS)
async def test_nodes_proxy_reaches_the_kubelet(node: str, kubectl: Kubectl, minor: int) -> None:
    code, out, err = await raw(kubectl, minor, f"/api/v1/nodes/{node}/proxy/pods")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["kind"] == "PodList" and "web" in [p["metadata"]["name"] for p in listed["items"]]
    code, out, err = await raw(kubectl, minor, f"/api/v1/nodes/{node}/proxy/healthz")
    assert (code, out) == (0, "ok"), err
    # the kubelet's answer is relayed as it is, refusals included
    code, _, err = await raw(kubectl, minor, f"/api/v1/nodes/{node}/proxy/no-such-path")
    assert code == 1 and "NotFound" in err, err


@pytest.mark.parametrize("minor", MINORS)
async def test_pods_and_services_proxy_answer_from_the_pod(node: str, kubectl: Kubectl, minor: int) -> None:
    for path in ("/api/v1/namespaces/default/services/web:http/proxy/",
                 "/api/v1/namespaces/default/services/http:web:80/proxy/index.html",
                 "/api/v1/namespaces/default/pods/web/proxy/",
                 "/api/v1/namespaces/default/pods/web:8080/proxy/index.html"):
        code, out, err = await raw(kubectl, minor, path)
        assert (code, out) == (0, "hello-from-web\n"), (path, err)
    code, _, err = await raw(kubectl, minor, "/api/v1/namespaces/default/services/web:9999/proxy/")
    assert code == 1 and 'no service port 9999 found for service "web"' in err, err
    code, _, err = await raw(kubectl, minor, "/api/v1/namespaces/default/pods/web:9999/proxy/")  # nothing listens
    assert code == 1 and "error trying to reach service: " in err, err
    code, _, err = await raw(kubectl, minor, "/api/v1/namespaces/default/pods/ftp:web:8080/proxy/")
    assert code == 1 and 'invalid pod request "ftp:web:8080"' in err, err


@pytest.mark.parametrize("minor", MINORS)
async def test_proxy_is_authorized_on_the_subresource(node: str, apiserver: APIServerProcess, kubectl: Kubectl,
                                                      minor: int) -> None:
    nobody = str(user_kubeconfig(apiserver, "nobody"))
    code, _, err = await raw(kubectl, minor, f"/api/v1/nodes/{node}/proxy/pods", "--kubeconfig", nobody)
    assert code == 1 and f'nodes "{node}" is forbidden: User "nobody" cannot get resource "nodes/proxy"' in err, err
    code, _, err = await raw(kubectl, minor, "/api/v1/namespaces/default/services/web:http/proxy/",
                             "--kubeconfig", nobody)
    assert code == 1 and 'cannot get resource "services/proxy"' in err, err


CHATTY = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done"


@pytest.fixture
async def rotating_node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> Any:  # noqa: F811
    """A kubelet rotating container logs at 2Ki (3 files), running `chatty`; yields the log directory."""
    name = f"kt-rotate-{containerd.bridge}"
    settings = KubeletSettings(node_name=name, node_ip="127.0.0.1", root_dir=str(tmp_path),
                               container_runtime_endpoint=containerd.endpoint, cni_conf_dir=str(tmp_path / "net.d"),
                               healthz_port=0, address="127.0.0.1", port=free_port(),
                               client_ca_file=str(apiserver.pki_dir / "ca.crt"), node_status_update_frequency=1.0,
                               pod_cidr_routes=False, container_log_max_size="2Ki", container_log_max_files=3,
                               container_log_monitor_interval=0.5)
    config = load_kubeconfig(str(apiserver.kubeconfig))
    kubelet = asyncio.create_task(run(settings, client_config=config))
    image = f"{containerd.registry}/busybox:test"
    async with Client(config) as client:
        try:
            await eventually(lambda: client.get(catalog.NODES, name), timeout=30, what="node registration")
            await client.patch(catalog.NODES, name, {"spec": {"podCIDR": containerd.subnet}})
            chatty = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "chatty", "namespace": "default"},
                      "spec": {"nodeName": name, "terminationGracePeriodSeconds": 1, "containers": [{
                          "name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                          "command": ["/bin/sh", "-c", CHATTY]}]}}
            created = await client.create(catalog.PODS, chatty)

            async def running() -> bool:
                got = await client.get(catalog.PODS, "chatty", "default")
                return (got.get("status") or {}).get("phase") == "Running"
            await eventually(running, timeout=60, what="chatty Running")
            yield Path(f"/var/log/pods/default_chatty_{created['metadata']['uid']}/main")
        finally:
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.PODS, "chatty", "default", grace_period_seconds=0)
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            async with RemoteRuntime(containerd.endpoint) as rt:
                for sandbox in await rt.list_pod_sandbox({lbl.POD_NAME: "chatty"}):
                    await rt.stop_pod_sandbox(sandbox.id)
                    await rt.remove_pod_sandbox(sandbox.id)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.NODES, name)


async def test_logs_rotate_and_follow_keeps_streaming_across_rotations(rotating_node: Path, kubectl: Kubectl) -> None:
    proc = kubectl.popen(33, "logs", "-f", "chatty")
    try:
        assert proc.stdout is not None
        seen: list[int] = []
        deadline = time.monotonic() + 30
        while len(seen) < 300 and time.monotonic() < deadline:  # ~3 rotations' worth of lines
            ready, _, _ = await asyncio.to_thread(select.select, [proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
                assert line, f"logs -f ended: {proc.stderr.read() if proc.stderr else ''}"
                seen.append(int(line.split()[1]))
        assert seen == list(range(len(seen))) and len(seen) == 300, seen[-5:]  # none lost, none twice
    finally:
        proc.kill()
        proc.wait(timeout=10)
    files = sorted(os.listdir(rotating_node))
    rotated = [f for f in files if f.startswith("0.log.")]
    # the live file, the newest rotated one plain, the older ones gzipped, 3 files in all
    assert "0.log" in files and len(files) <= 3 and rotated, files
    assert not rotated[-1].endswith(".gz") and all(f.endswith(".gz") for f in rotated[:-1]), files
    # as upstream, a plain `kubectl logs` reads the live file only: it starts after line 0
    code, out, _ = await raw_logs(kubectl, "chatty")
    assert code == 0 and not out.startswith("line 0\n") and out.splitlines()[-1].startswith("line ")


async def raw_logs(kubectl: Kubectl, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.to_thread(kubectl, 33, "logs", *args)
    return proc.returncode, proc.stdout, proc.stderr


async def runtime_measures_web(endpoint: str) -> bool:
    """Whether containerd has a CPU and memory reading for the web container (its shim sometimes
    answers none on this cgroup v1+v2 hybrid host: `ctr task metrics` says "no metrics received")."""
    async with RemoteRuntime(endpoint) as rt:
        stats = await rt.list_container_stats()
    return any(s.attributes.labels.get(lbl.POD_NAME) == "web" and s.cpu.timestamp and s.memory.timestamp
               for s in stats)


async def test_stats_summary_metrics_and_running_pods_through_nodes_proxy(
        node: str, kubectl: Kubectl, containerd: Containerd) -> None:  # noqa: F811
    await asyncio.sleep(2)  # the runtime's first reading of a container comes a moment after its start
    measured = await runtime_measures_web(containerd.endpoint)
    code, out, err = await raw(kubectl, 33, f"/api/v1/nodes/{node}/proxy/stats/summary")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["node"]["nodeName"] == node and summary["node"]["memory"]["workingSetBytes"] > 0
    assert summary["node"]["cpu"]["usageCoreNanoSeconds"] > 0
    web = [p for p in summary["pods"] if p["podRef"]["name"] == "web"]
    code, metrics, err = await raw(kubectl, 33, f"/api/v1/nodes/{node}/proxy/metrics/resource")
    assert code == 0, err
    assert "resource_scrape_error 0" in metrics and "node_memory_working_set_bytes " in metrics
    series = 'container_memory_working_set_bytes{container="web",namespace="default",pod="web"}'
    if measured:  # the runtime's numbers reach both endpoints
        [container] = web[0]["containers"]
        assert container["name"] == "web" and container["memory"]["workingSetBytes"] > 0
        assert series in metrics
    else:  # no reading from the runtime: the pod is left out, never reported as zeros
        assert web == [] and series not in metrics
    code, out, err = await raw(kubectl, 33, f"/api/v1/nodes/{node}/proxy/runningpods/")
    assert code == 0, err
    assert "web" in [p["metadata"]["name"] for p in json.loads(out)["items"]]
    code, own, err = await raw(kubectl, 33, f"/api/v1/nodes/{node}/proxy/metrics")
    assert code == 0, err
    totals = {line.split()[0]: float(line.split()[1]) for line in own.splitlines()
              if line.startswith("kubelet_runtime_operations_total{")}
    assert totals['kubelet_runtime_operations_total{operation_type="run_podsandbox"}'] >= 1
    assert totals['kubelet_runtime_operations_total{operation_type="start_container"}'] >= 1
    assert 'kubelet_runtime_operations_duration_seconds_count{operation_type="create_container"}' in own
    assert "kubelet_pod_start_duration_seconds_count " in own
