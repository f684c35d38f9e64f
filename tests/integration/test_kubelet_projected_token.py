"""A pod's ServiceAccount volume, end to end on one node: the real kube-apiserver's ServiceAccount
admission adds the projected volume, the kubelet's pod syncer writes it under its root dir and
real containerd bind-mounts it, so the container reads `token`, `ca.crt` and `namespace` at
/var/run/secrets/kubernetes.io/serviceaccount, read-only, and sees a renewed token in place.

The TokenRequest itself is stubbed (`StubTokenSource`): this branch's API server does not
serve `serviceaccounts/token` yet. The containerd fixture is the CRI test's.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet import podconfig
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.token_manager import TokenManager
from lab.kube.kubelet.volumes import CachedObjects, VolumeManager
from lab.kube.machinery import catalog, errors
from tests.integration.conftest import APIServerProcess, EtcdServer
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class StubTokenSource:
    """Answers TokenRequests as the API server will: `status.token` valid for the asked seconds."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[dict[str, Any]] = []

    async def create_token(self, namespace: str, service_account: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        expires = int(self.clock()) + request["spec"]["expirationSeconds"]
        return {**request, "status": {
            "token": f"stub-token-{len(self.requests)}-for-{namespace}-{service_account}",
            "expirationTimestamp": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}


@pytest.fixture(scope="module")
def sa_apiserver(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    server = APIServerProcess(etcd_server.url, tmp_path_factory.mktemp("sa-apiserver"),
                              extra_args=("--enable-admission-plugins", "ServiceAccount"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def client(sa_apiserver: APIServerProcess) -> AsyncIterator[Client]:
    async with Client(load_kubeconfig(str(sa_apiserver.kubeconfig))) as c:
        yield c


async def ensure(client: Client, resource: catalog.Resource, obj: dict[str, Any]) -> None:
    with contextlib.suppress(errors.AlreadyExists):
        await client.create(resource, obj, "default")


def in_container(env: Containerd, container_id: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` in the running container (a CRI container is a containerd task of the same id)."""
    exec_id = f"probe-{time.monotonic_ns()}"
    return subprocess.run(["ctr", "-a", str(env.socket), "-n", "k8s.io", "tasks", "exec", "--exec-id", exec_id,
                           container_id, *command], capture_output=True, text=True, timeout=30, check=False)


def read(env: Containerd, container_id: str, name: str) -> str:
    done = in_container(env, container_id, "/bin/busybox", "cat", f"{MOUNT_PATH}/{name}")
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_container_reads_its_token_ca_and_namespace_and_sees_the_token_renewed(
        containerd: Containerd, sa_apiserver: APIServerProcess, client: Client, tmp_path: Path) -> None:  # noqa: F811
    ca_pem = sa_apiserver.ca_file.read_text()
    if (accounts := catalog.lookup("", "v1", "serviceaccounts")) is not None:
        await ensure(client, accounts, {"metadata": {"name": "default"}})  # the controller's job in a cluster
    await ensure(client, catalog.CONFIGMAPS, {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": ca_pem}})
    pod = await client.create(catalog.PODS, {"metadata": {"name": "sa-reader"}, "spec": {"containers": [{
        "name": "app", "image": f"{containerd.registry}/busybox:test", "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sleep", "3600"]}]}}, "default")
    [volume] = pod["spec"]["volumes"]
    assert volume["name"].startswith("kube-api-access-")
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}]

    clock = Clock()
    tokens = StubTokenSource(clock)
    volumes = VolumeManager(tmp_path, TokenManager(tokens, clock=clock), CachedObjects(client), clock=clock)
    node = podconfig.NodeFacts(node_name="w1", node_ip="127.0.0.1",
                               host_dns=podconfig.parse_resolv_conf("nameserver 10.96.0.10\n"))
    uid = pod["metadata"]["uid"]
    async with RemoteRuntime(containerd.endpoint, timeout=60) as runtime:
        syncer = PodSyncer(runtime, node, clock=clock, volumes=volumes)
        try:
            result = await syncer.sync(pod)
            [container] = [c for c in result.runtime.containers if c.running]
            assert [r["spec"]["boundObjectRef"] for r in tokens.requests] == [
                {"apiVersion": "v1", "kind": "Pod", "name": "sa-reader", "uid": uid}]

            assert read(containerd, container.id, "token") == "stub-token-1-for-default-default"
            assert read(containerd, container.id, "ca.crt") == ca_pem
            assert read(containerd, container.id, "namespace") == "default"
            modes = in_container(containerd, container.id, "/bin/busybox", "stat", "-L", "-c", "%a %n",
                                 f"{MOUNT_PATH}/token", f"{MOUNT_PATH}/ca.crt", f"{MOUNT_PATH}/namespace")
            assert modes.stdout.split("\n")[:3] == [f"644 {MOUNT_PATH}/{n}" for n in ("token", "ca.crt", "namespace")]
            write = in_container(containerd, container.id, "/bin/sh", "-c", f"echo x > {MOUNT_PATH}/token")
            assert write.returncode != 0 and "Read-only file system" in write.stderr

            clock.offset = 3607 * 0.8 + 15  # past renewal (80 % of the lifetime, plus the jitter)
            await syncer.sync(pod)
            assert read(containerd, container.id, "token") == "stub-token-2-for-default-default"
            assert [c.id for c in (await syncer.sync(pod)).runtime.containers] == [container.id]  # not restarted
        finally:
            await syncer.kill(uid, grace=0)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.PODS, "sa-reader", "default", grace_period_seconds=0)
            shutil.rmtree(podconfig.log_directory(pod), ignore_errors=True)  # containerd wrote it on the host
    assert not (tmp_path / "pods" / uid).exists()
