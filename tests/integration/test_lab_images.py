"""The lab's images, built offline and then used for real: the pod images go through a
throwaway local registry into Docker and serve; the node image boots systemd with sshd.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.machines import node_image, pod_images
from tests.support import free_port, holds_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# the flags the Vagrantfile gives machine containers (no --privileged on this kind of host)
MACHINE_FLAGS = ["--cap-add=ALL", "--cap-drop=SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
                 "--security-opt", "apparmor=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                 "--tmpfs", "/run", "--tmpfs", "/run/lock"]


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (run scripts/host-setup.sh)")
    if "docker" in tools and subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("docker daemon is not running")


def sh(*cmd: str, timeout: float = 120) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)}: {proc.stderr.strip()}"
    return proc.stdout


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pod_images.PodImage]:
    need("gcc", "apt-get", "dpkg-deb", "mmdebstrap")
    dest = tmp_path_factory.mktemp("images")
    return {image.name: image for image in pod_images.build_all(REPO, dest)}


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[str]:
    """A Debian docker-registry on 127.0.0.1:<free port>, storing into tmp_path."""
    need("docker-registry")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(json.dumps({"version": 0.1, "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
                                  "http": {"addr": f"127.0.0.1:{port}"}, "log": {"level": "warn"}}))
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "docker-registry did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def containers() -> Iterator[list[str]]:
    """Names of docker containers (and `image:` references) the test made; removed after."""
    started: list[str] = []
    yield started
    for name in started:  # containers first, then the images they used
        if not name.startswith("image:"):
            subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)
    for name in started:
        if name.startswith("image:"):
            subprocess.run(["docker", "image", "rm", name[len("image:"):]], capture_output=True)


def test_skopeo_reads_the_layouts_with_their_tags_and_config(layouts: dict[str, pod_images.PodImage]) -> None:
    need("skopeo")
    web = json.loads(sh("skopeo", "inspect", "--config", f"oci:{layouts['web'].layout}:1"))
    assert web["config"]["Cmd"] == ["/entrypoint.sh"]
    assert web["config"]["ExposedPorts"] == {"8080/tcp": {}}
    pause = json.loads(sh("skopeo", "inspect", f"oci:{layouts['pause'].layout}:3.9"))
    assert pause["Digest"] == layouts["pause"].digest
    assert pause["Architecture"] == "amd64"


def push_and_pull(image: pod_images.PodImage, registry: str, containers: list[str]) -> str:
    reference = f"{registry}/kubelab/{image.name}:{image.tag}"
    sh("skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{image.layout}:{image.tag}", f"docker://{reference}")
    sh("docker", "pull", "-q", reference)  # Docker trusts plain-HTTP registries on 127.0.0.0/8
    containers.append(f"image:{reference}")
    return reference


def test_web_serves_its_pod_name_after_a_trip_through_a_registry(
        layouts: dict[str, pod_images.PodImage], registry: str, containers: list[str]) -> None:
    need("docker", "skopeo")
    reference = push_and_pull(layouts["web"], registry, containers)
    name = f"web-{uuid.uuid4().hex[:8]}"
    containers.append(name)
    sh("docker", "run", "-d", "--name", name, "--hostname", name, "--network", "none", reference)
    # ask from inside the pod's own network namespace: no traffic leaves the container
    deadline = time.monotonic() + 15
    while True:
        proc = subprocess.run(["docker", "exec", name, "wget", "-qO-", "http://127.0.0.1:8080/"],
                              capture_output=True, text=True)
        if proc.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert proc.stdout.strip() == name, proc.stderr


async def test_pause_holds_the_sandbox_until_asked_to_stop(
        layouts: dict[str, pod_images.PodImage], registry: str, containers: list[str]) -> None:
    need("docker", "skopeo")
    reference = push_and_pull(layouts["pause"], registry, containers)
    name = f"pause-{uuid.uuid4().hex[:8]}"
    containers.append(name)
    sh("docker", "run", "-d", "--name", name, "--network", "none", reference)

    def running() -> bool:
        return sh("docker", "inspect", "-f", "{{.State.Running}}", name).strip() == "true"
    # a sandbox lives as long as its pod: pause keeps running, checked over a window, not once
    await holds_for(lambda: asyncio.to_thread(running), 1.0, what=f"{name} running")
    started = time.monotonic()
    sh("docker", "stop", "-t", "10", name)  # SIGTERM: pause exits 0 at once, no SIGKILL after 10 s
    assert time.monotonic() - started < 5
    assert sh("docker", "inspect", "-f", "{{.State.ExitCode}}", name).strip() == "0"


@pytest.fixture()
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private containerd (no CRI) with its own root, state and socket: the runtime
    kubelet drives on the machines, without touching any containerd of the host."""
    need("containerd", "ctr", "runc")
    base = tmp_path_factory.mktemp("ctrd")
    socket_path = base / "containerd.sock"
    config = base / "config.toml"
    config.write_text(f"""version = 2
root = "{base / 'root'}"
state = "{base / 'state'}"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{socket_path}"
[ttrpc]
  address = "{socket_path}.ttrpc"
""")
    proc = subprocess.Popen(["containerd", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["ctr", "-a", str(socket_path), "version"], capture_output=True).returncode != 0:
            assert proc.poll() is None and time.monotonic() < deadline, "containerd did not start"
            time.sleep(0.2)
        yield str(socket_path)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_containerd_pulls_web_from_the_registry_and_runs_it(
        layouts: dict[str, pod_images.PodImage], registry: str, containerd: str) -> None:
    need("skopeo")
    reference = f"{registry}/kubelab/web:1"
    sh("skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layouts['web'].layout}:1", f"docker://{reference}")
    sh("ctr", "-a", containerd, "images", "pull", "--plain-http", reference)
    # in the task's own network namespace: start the entrypoint, ask it once it listens (10 s at most)
    script = ("ip link set lo up; /entrypoint.sh & i=0; "
              "until wget -qO- http://127.0.0.1:8080/ 2>/dev/null; do "
              "i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done; hostname")
    out = sh("ctr", "-a", containerd, "run", "--rm", reference, f"web-{uuid.uuid4().hex[:8]}", "sh", "-c", script)
    served, hostname = out.split()
    assert served == hostname


def test_the_node_image_boots_systemd_with_sshd_and_leaves_lab_services_off(containers: list[str]) -> None:
    need("docker", "mmdebstrap", "vagrant")
    tag, _ = node_image.build(REPO)  # cached by the hash of its inputs
    name = f"kubelab-node-test-{uuid.uuid4().hex[:8]}"
    containers.append(name)
    sh("docker", "run", "-d", "--name", name, "--hostname", "node-test", "--network", "none", *MACHINE_FLAGS, tag)
    state, deadline = "", time.monotonic() + 90
    while state not in ("running", "degraded") and time.monotonic() < deadline:
        # before systemd's bus is up even `--wait` fails at once: ask again
        state = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running", "--wait"],
                               capture_output=True, text=True, timeout=120).stdout.strip()
        time.sleep(0.2)
    failed = sh("docker", "exec", name, "systemctl", "--failed", "--no-legend")
    assert state == "running", failed
    assert sh("docker", "exec", name, "systemctl", "is-active", "ssh").strip() == "active"
    enabled = subprocess.run(["docker", "exec", name, "systemctl", "is-enabled", "etcd", "containerd",
                              "docker-registry"], capture_output=True, text=True).stdout.split()
    assert enabled == ["disabled", "disabled", "disabled"]
    keys = sh("docker", "exec", name, "cat", "/home/vagrant/.ssh/authorized_keys")
    assert keys.startswith("ssh-rsa ") and "vagrant" in keys
    assert sh("docker", "exec", name, "sudo", "-u", "vagrant", "sudo", "-n", "id", "-u").strip() == "0"
    assert sh("docker", "exec", name, "ls", "/var/lib/etcd") == ""


def test_python_client_runs_the_official_kubernetes_client(
        layouts: dict[str, pod_images.PodImage], registry: str, containers: list[str]) -> None:
    need("docker", "skopeo", "mmdebstrap")
    reference = push_and_pull(layouts["python-client"], registry, containers)
    name = f"python-client-{uuid.uuid4().hex[:8]}"
    containers.append(name)
    out = sh("docker", "run", "--name", name, "--network", "none", reference, "python3", "-c",
             "import kubernetes, kubernetes.config; print('kubernetes', kubernetes.__version__)")
    assert out.startswith("kubernetes "), out
