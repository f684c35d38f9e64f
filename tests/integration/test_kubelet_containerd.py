"""The kubelet's CRI client against a real, private containerd: sandbox on a CNI bridge, a pulled
image, a busybox httpd reached from the host over the pod IP, then stop and remove.

Everything is private to the test: containerd's root/state/socket in a temp dir, a CNI conflist
(written by the kubelet's own cni module) for a bridge and subnet the test picks, images built
here from the host's static busybox (no internet): the sandbox image is imported with `ctr`, the
app image is served by a loopback `docker-registry` so PullImage really pulls.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from lab.kube.kubelet import cni, podconfig
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.machinery import errors
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PAUSE_IMAGE = "kubelab.local/pause:test"


def _static_busybox() -> bytes:
    """Debian's static busybox, taken from its .deb as the lab's pod images take it."""
    from lab.machines.pod_images import busybox_binary

    return busybox_binary(REPO / ".lab" / "cache" / "debs")


def _can_lower_oom_score() -> bool:
    probe = subprocess.run(["sh", "-c", "echo -1 > /proc/self/oom_score_adj"], capture_output=True, check=False)
    return probe.returncode == 0


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rootfs_layer() -> bytes:
    """An uncompressed layer tar: /bin/busybox, /bin/sh, a web root and the dirs runc expects."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "www"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        busybox = _static_busybox()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(busybox), 0o755
        tar.addfile(info, io.BytesIO(busybox))
        for link in ("sh", "sleep", "httpd"):
            info = tarfile.TarInfo(f"bin/{link}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        page = b"hello from a kubelab pod\n"
        info = tarfile.TarInfo("www/index.html")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
    return buf.getvalue()


def docker_archive(path: Path, images: dict[str, list[str]]) -> None:
    """A `docker save` archive holding one image per tag (same layer, own Cmd)."""
    layer = rootfs_layer()
    manifest = []
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("layer.tar", layer)
        for tag, cmd in images.items():
            config = json.dumps({"architecture": "amd64", "os": "linux",
                                 "config": {"Cmd": cmd, "Env": ["PATH=/bin"]},
                                 "rootfs": {"type": "layers", "diff_ids": [_sha(layer)]}}).encode()
            name = _sha(config).split(":")[1] + ".json"
            add(name, config)
            manifest.append({"Config": name, "RepoTags": [tag], "Layers": ["layer.tar"]})
        add("manifest.json", json.dumps(manifest).encode())


def wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args!r} did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Containerd:
    socket: Path
    conf_dir: Path
    registry: str
    subnet: str
    bridge: str
    network: str

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    for tool in ("containerd", "ctr", "runc", "docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root")
    tmp = tmp_path_factory.mktemp("containerd")
    tag = f"{random.randrange(16**6):06x}"
    env = Containerd(socket=tmp / "containerd.sock", conf_dir=tmp / "net.d", registry=f"127.0.0.1:{free_port()}",
                     subnet=f"10.250.{random.randrange(100, 250)}.0/24", bridge=f"klt{tag}",
                     network=f"kubelab-test-{tag}")
    cni.write_conflist(env.conf_dir, env.subnet, bridge=env.bridge, network=env.network)

    # a loopback registry for the app image
    (tmp / "registry.yml").write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp}/registry\n"
                                      f"http:\n  addr: {env.registry}\n")
    reg_log = tmp / "registry.log"
    registry = subprocess.Popen(["docker-registry", "serve", str(tmp / "registry.yml")],
                                stdout=reg_log.open("wb"), stderr=subprocess.STDOUT)
    config = f"""version = 2
root = "{tmp}/root"
state = "{tmp}/state"
[grpc]
  address = "{env.socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # without CAP_SYS_RESOURCE (containers, some VMs) the sandbox's oom_score_adj -998 cannot be set
  restrict_oom_score_adj = {str(not _can_lower_oom_score()).lower()}
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{env.conf_dir}"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."{env.registry}"]
    endpoint = ["http://{env.registry}"]
"""
    (tmp / "config.toml").write_text(config)
    ctd_log = tmp / "containerd.log"
    proc = subprocess.Popen(["containerd", "--config", str(tmp / "config.toml")],
                            stdout=ctd_log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(env.socket, proc, ctd_log)
        archive = tmp / "images.tar"
        docker_archive(archive, {PAUSE_IMAGE: ["/bin/sleep", "2147483647"],
                                 f"{env.registry}/busybox:test": ["/bin/sh"]})
        subprocess.run(["ctr", "-a", str(env.socket), "-n", "k8s.io", "images", "import",
                        "--snapshotter", "overlayfs", str(archive)], check=True, capture_output=True)
        deadline = time.monotonic() + 15
        while True:  # the registry may still be starting
            push = subprocess.run(["skopeo", "copy", "--dest-tls-verify=false",
                                   f"docker-archive:{archive}:{env.registry}/busybox:test",
                                   f"docker://{env.registry}/busybox:test"],
                                  capture_output=True, text=True, check=False)
            if push.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"pushing the test image failed: {push.stderr}\n{reg_log.read_text()[-2000:]}")
            time.sleep(0.3)
        # the app image must come from PullImage, not from the import
        subprocess.run(["ctr", "-a", str(env.socket), "-n", "k8s.io", "images", "rm",
                        f"{env.registry}/busybox:test"], check=True, capture_output=True)
        yield env
    finally:
        stop(proc)
        stop(registry)
        subprocess.run(["ip", "link", "del", env.bridge], capture_output=True, check=False)
        shutil.rmtree(f"/var/lib/cni/networks/{env.network}", ignore_errors=True)
        subprocess.run(["umount", "-R", str(tmp)], capture_output=True, check=False)


@pytest.fixture
async def runtime(containerd: Containerd) -> AsyncIterator[RemoteRuntime]:
    async with RemoteRuntime(containerd.endpoint, timeout=60) as rt:
        yield rt


async def get_page(url: str, timeout: float = 15.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    return await resp.text()
            except (TimeoutError, aiohttp.ClientError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def test_cri_runs_a_pod_reachable_over_its_ip_then_removes_it(containerd, runtime):
    version = await runtime.version()
    assert version.runtime_name == "containerd" and version.runtime_api_version == "v1"

    image = f"{containerd.registry}/busybox:test"
    pod = {"metadata": {"name": "web", "namespace": "default", "uid": f"uid-{containerd.bridge}"},
           "spec": {"containers": [{"name": "httpd", "image": image,
                                    "command": ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]}]}}
    node = podconfig.NodeFacts(node_name="w1", node_ip="127.0.0.1",
                               host_dns=podconfig.parse_resolv_conf("nameserver 10.96.0.10\n"))
    sandbox_config = podconfig.sandbox_config(pod, node)
    sandbox_config.log_directory = str(containerd.socket.parent / "pods" / "default_web")

    assert await runtime.image_status(image) is None
    ref = await runtime.pull_image(image, sandbox_config)
    assert ref.startswith("sha256:")
    assert (await runtime.image_status(image)).id == ref

    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    try:
        status = await runtime.pod_sandbox_status(sandbox_id)
        assert status.state == pb.SANDBOX_READY
        pod_ip = status.network.ip
        assert pod_ip.startswith(containerd.subnet.rsplit(".", 2)[0] + ".")
        [listed] = await runtime.list_pod_sandbox({lbl.POD_UID: pod["metadata"]["uid"]})
        assert listed.id == sandbox_id and listed.labels[lbl.POD_NAME] == "web"

        config = podconfig.container_config(pod, pod["spec"]["containers"][0], node, restart_count=0, pod_ip=pod_ip)
        container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
        await runtime.start_container(container_id)
        assert (await runtime.container_status(container_id)).state == pb.CONTAINER_RUNNING
        [c] = await runtime.list_containers(labels={lbl.POD_UID: pod["metadata"]["uid"]})
        assert c.labels[lbl.CONTAINER_NAME] == "httpd" and c.annotations[lbl.RESTART_COUNT] == "0"

        assert await get_page(f"http://{pod_ip}:8080/") == "hello from a kubelab pod\n"

        await runtime.stop_container(container_id, timeout=2)
        st = await runtime.container_status(container_id)
        assert st.state == pb.CONTAINER_EXITED and st.finished_at > 0
        await runtime.remove_container(container_id)
    finally:
        await runtime.stop_pod_sandbox(sandbox_id)
        await runtime.remove_pod_sandbox(sandbox_id)
    assert await runtime.list_pod_sandbox({lbl.POD_UID: pod["metadata"]["uid"]}) == []


async def pod_runtime(endpoint: str, uid: str) -> tuple[list[str], dict[str, int]]:
    """Straight from containerd: pod `uid`'s sandbox ids, and its container ids with their CRI state."""
    async with RemoteRuntime(endpoint) as rt:
        sandboxes = [s.id for s in await rt.list_pod_sandbox({lbl.POD_UID: uid})]
        containers = {c.id: c.state for c in await rt.list_containers(labels={lbl.POD_UID: uid})}
    return sandboxes, containers


async def test_kubelet_runs_a_pod_from_the_api_server_adopts_it_after_restart_and_deletes_it(
        containerd, apiserver, tmp_path):
    from lab.kube.client import Client, load_kubeconfig
    from lab.kube.kubelet.kubelet import run
    from lab.kube.kubelet.settings import KubeletSettings
    from lab.kube.machinery import catalog

    node_name = f"kt-{containerd.bridge}"
    health = free_port()
    settings = KubeletSettings(node_name=node_name, node_ip="127.0.0.1", root_dir=str(tmp_path),
                               container_runtime_endpoint=containerd.endpoint,
                               cni_conf_dir=str(tmp_path / "net.d"),  # containerd reads the fixture's conflist
                               healthz_port=health, port=0, node_status_update_frequency=1.0, pod_cidr_routes=False)
    config = load_kubeconfig(str(apiserver.kubeconfig))
    kubelet = asyncio.create_task(run(settings, client_config=config))
    async with Client(config) as client:
        async def ready_condition() -> dict | None:
            node = await client.get(catalog.NODES, node_name)  # NotFound until registered: not yet
            return next((c for c in (node.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"),
                        None)

        async def node_ready() -> str | None:
            condition = await ready_condition()
            return condition["status"] if condition else None

        async def pod_status() -> dict:
            return (await client.get(catalog.PODS, "web", "default")).get("status") or {}

        async def pod_running() -> dict | None:
            status = await pod_status()
            return status if status.get("phase") == "Running" else None
        try:
            assert await eventually(node_ready, timeout=30, what="node registration") == "False"
            await client.patch(catalog.NODES, node_name, {"spec": {"podCIDR": containerd.subnet}})
            await eventually(lambda: _equals(node_ready, "True"), timeout=30, what="node Ready")
            assert await get_page(f"http://127.0.0.1:{health}/healthz") == "ok"

            created = await client.create(catalog.PODS, {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
                "spec": {"nodeName": node_name, "terminationGracePeriodSeconds": 2, "containers": [{
                    "name": "httpd", "image": f"{containerd.registry}/busybox:test",
                    "imagePullPolicy": "IfNotPresent", "command": ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]}]}})
            uid = created["metadata"]["uid"]
            status = await eventually(pod_running, timeout=30, what="pod Running")
            [first] = status["containerStatuses"]
            assert first["containerID"].startswith("containerd://") and status["podIP"]
            assert await get_page(f"http://{status['podIP']}:8080/") == "hello from a kubelab pod\n"
            sandboxes, containers = await pod_runtime(containerd.endpoint, uid)
            assert containers == {first["containerID"].removeprefix("containerd://"): pb.CONTAINER_RUNNING}
            assert len(sandboxes) == 1

            kubelet.cancel()  # a kubelet restart leaves the pod running and adopts it
            await asyncio.gather(kubelet, return_exceptions=True)
            assert await get_page(f"http://{status['podIP']}:8080/") == "hello from a kubelab pod\n"
            # Nothing writes this pod's status or this node's heartbeat now. Take the old kubelet's
            # containerStatuses away: only a kubelet that synced the pod against the runtime puts them back.
            await client.patch(catalog.PODS, "web", {"status": {"containerStatuses": None}}, "default",
                               subresource="status")
            assert "containerStatuses" not in await pod_status()
            heartbeat = (await ready_condition())["lastHeartbeatTime"]

            kubelet = asyncio.create_task(run(settings, client_config=config))
            again = await eventually(lambda: _when(pod_status, lambda s: s.get("containerStatuses")), timeout=30,
                                     what="the new kubelet to write the pod's containerStatuses")
            # adopted, not recreated: the same container, still running from the same start, in the same sandbox
            [adopted] = again["containerStatuses"]
            assert adopted["containerID"] == first["containerID"] and adopted["restartCount"] == 0
            assert adopted["state"] == first["state"] and "running" in adopted["state"]
            assert again["phase"] == "Running" and again["podIP"] == status["podIP"]
            assert await pod_runtime(containerd.endpoint, uid) == (sandboxes, containers)
            assert await get_page(f"http://{status['podIP']}:8080/") == "hello from a kubelab pod\n"
            # and the new process heartbeats the node (status every second)
            await eventually(lambda: _when(ready_condition, lambda c: c["lastHeartbeatTime"] != heartbeat),
                             timeout=30, what="a node heartbeat from the new kubelet")

            await client.delete(catalog.PODS, "web", "default")
            await eventually(lambda: _gone(client, catalog.PODS, "web"), timeout=30, what="pod deletion")
            async with RemoteRuntime(containerd.endpoint) as rt:
                assert [s for s in await rt.list_pod_sandbox({lbl.POD_NAME: "web"})] == []
        finally:
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            # after a failure the pod may still run: its shim and processes would outlive containerd
            async with RemoteRuntime(containerd.endpoint) as rt:
                for sandbox in await rt.list_pod_sandbox({lbl.POD_NAME: "web"}):
                    await rt.stop_pod_sandbox(sandbox.id)
                    await rt.remove_pod_sandbox(sandbox.id)
            with contextlib.suppress(errors.NotFound):
                await client.delete(catalog.NODES, node_name)


async def _equals(check, want):  # type: ignore[no-untyped-def]
    return await check() == want


async def _when(get, pred):  # type: ignore[no-untyped-def]
    """`get()`'s value once `pred` holds for it, else None."""
    value = await get()
    return value if value is not None and pred(value) else None


async def _gone(client, res, name):  # type: ignore[no-untyped-def]
    try:
        await client.get(res, name, "default")
    except errors.NotFound:
        return True
    return False
