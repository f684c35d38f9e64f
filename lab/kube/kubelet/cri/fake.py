"""FakeRuntime: an in-memory CRI runtime behind the same interface as `RemoteRuntime`.

Sandboxes get IPs from 10.88.0.0/16, containers move CREATED -> RUNNING -> EXITED when the test
says so (`exit_container`), images exist once pulled or `add_image`d, and every call is recorded
in `calls` so tests can assert on what the kubelet asked for.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError


@dataclass
class FakeSandbox:
    id: str
    config: pb.PodSandboxConfig
    created_at: int
    ip: str
    state: pb.PodSandboxState = pb.SANDBOX_READY


@dataclass
class FakeContainer:
    id: str
    sandbox_id: str
    config: pb.ContainerConfig
    image_ref: str
    created_at: int
    state: pb.ContainerState = pb.CONTAINER_CREATED
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""


@dataclass
class FakeRuntime:
    """`FakeRuntime(clock=lambda: now)`; `clock` is seconds, as `time.time`."""

    clock: Callable[[], float] = time.time
    images: dict[str, str] = field(default_factory=dict)  # name -> image id
    sandboxes: dict[str, FakeSandbox] = field(default_factory=dict)
    containers: dict[str, FakeContainer] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    pullable: bool = True
    registry_user: str = ""  # when set, pulls need this user's credentials (a private registry)
    # ExecSync answers by command line (joined with spaces); unknown commands exit 0 with no output
    exec_results: dict[str, pb.ExecSyncResponse] = field(default_factory=dict)
    streaming_url: str = "http://127.0.0.1:0/streaming"
    record_calls: bool = True  # a hollow node, running for hours, keeps no call log
    pod_subnet: str = ""  # "10.64.3": sandbox IPs 10.64.3.2...; empty: 10.88.0.0/16 by count
    _failures: dict[str, CRIError] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- test controls ---------------------------------------------------------------------------
    def add_image(self, name: str) -> str:
        self.images[name] = f"sha256:{abs(hash(name)):064x}"[:71]
        return self.images[name]

    def fail_next(self, method: str, code: str = "UNKNOWN", details: str = "injected") -> None:
        self._failures[method] = CRIError(method, code, details)

    def exit_container(self, container_id: str, code: int = 0, reason: str = "") -> None:
        c = self.containers[container_id]
        c.state, c.exit_code, c.finished_at = pb.CONTAINER_EXITED, code, self._ns()
        c.reason = reason or ("Completed" if code == 0 else "Error")

    def running(self, name: str) -> list[FakeContainer]:
        return [c for c in self.containers.values()
                if c.config.metadata.name == name and c.state == pb.CONTAINER_RUNNING]

    def _ns(self) -> int:
        return int(self.clock() * 1e9)

    def _record(self, method: str, arg: str = "") -> None:
        if self.record_calls:
            self.calls.append((method, arg))
        if method in self._failures:
            raise self._failures.pop(method)

    def _sandbox(self, method: str, sandbox_id: str) -> FakeSandbox:
        if sandbox_id not in self.sandboxes:
            raise CRIError(method, "NOT_FOUND", f"an error occurred when try to find sandbox {sandbox_id!r}")
        return self.sandboxes[sandbox_id]

    def _container(self, method: str, container_id: str) -> FakeContainer:
        if container_id not in self.containers:
            raise CRIError(method, "NOT_FOUND", f"an error occurred when try to find container {container_id!r}")
        return self.containers[container_id]

    # -- RuntimeService --------------------------------------------------------------------------
    async def version(self) -> pb.VersionResponse:
        self._record("Version")
        return pb.VersionResponse(version="0.1.0", runtime_name="containerd", runtime_version="v1.6.20",
                                  runtime_api_version="v1")

    async def status(self) -> pb.RuntimeStatus:
        self._record("Status")
        return pb.RuntimeStatus(conditions=[pb.RuntimeCondition(type="RuntimeReady", status=True),
                                            pb.RuntimeCondition(type="NetworkReady", status=True)])

    async def run_pod_sandbox(self, config: pb.PodSandboxConfig, runtime_handler: str = "") -> str:
        self._record("RunPodSandbox", config.metadata.name)
        n = next(self._ids)
        sid = f"sandbox{n:04d}"
        ip = f"{self.pod_subnet}.{n % 250 + 2}" if self.pod_subnet else f"10.88.{n // 250}.{n % 250 + 2}"
        self.sandboxes[sid] = FakeSandbox(sid, config, self._ns(), ip)
        return sid

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        self._record("StopPodSandbox", sandbox_id)
        if sandbox_id in self.sandboxes:  # idempotent, as upstream requires
            self.sandboxes[sandbox_id].state = pb.SANDBOX_NOTREADY
            for c in self.containers.values():
                if c.sandbox_id == sandbox_id and c.state == pb.CONTAINER_RUNNING:
                    self.exit_container(c.id, 137)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        self._record("RemovePodSandbox", sandbox_id)
        self.sandboxes.pop(sandbox_id, None)
        for cid in [c.id for c in self.containers.values() if c.sandbox_id == sandbox_id]:
            del self.containers[cid]

    async def pod_sandbox_status(self, sandbox_id: str) -> pb.PodSandboxStatus:
        self._record("PodSandboxStatus", sandbox_id)
        s = self._sandbox("PodSandboxStatus", sandbox_id)
        return pb.PodSandboxStatus(id=s.id, metadata=s.config.metadata, state=s.state, created_at=s.created_at,
                                   network=pb.PodSandboxNetworkStatus(ip=s.ip if s.state == pb.SANDBOX_READY else ""),
                                   labels=s.config.labels, annotations=s.config.annotations)

    async def list_pod_sandbox(self, labels: dict[str, str] | None = None) -> list[pb.PodSandbox]:
        self._record("ListPodSandbox")
        return [pb.PodSandbox(id=s.id, metadata=s.config.metadata, state=s.state, created_at=s.created_at,
                              labels=s.config.labels, annotations=s.config.annotations)
                for s in self.sandboxes.values() if _matches(s.config.labels, labels)]

    async def create_container(self, sandbox_id: str, config: pb.ContainerConfig,
                               sandbox_config: pb.PodSandboxConfig) -> str:
        self._record("CreateContainer", config.metadata.name)
        if self._sandbox("CreateContainer", sandbox_id).state != pb.SANDBOX_READY:
            raise CRIError("CreateContainer", "UNKNOWN", f"sandbox {sandbox_id} is not ready")
        image = config.image.image
        if image not in self.images:
            raise CRIError("CreateContainer", "UNKNOWN", f"failed to get image {image!r}: not found")
        cid = f"container{next(self._ids):04d}"
        self.containers[cid] = FakeContainer(cid, sandbox_id, config, self.images[image], self._ns())
        return cid

    async def start_container(self, container_id: str) -> None:
        self._record("StartContainer", container_id)
        c = self._container("StartContainer", container_id)
        c.state, c.started_at = pb.CONTAINER_RUNNING, self._ns()

    async def stop_container(self, container_id: str, timeout: int) -> None:
        self._record("StopContainer", f"{container_id} {timeout}")
        c = self._container("StopContainer", container_id)
        if c.state == pb.CONTAINER_RUNNING:
            self.exit_container(container_id, 137 if timeout == 0 else 143)

    async def remove_container(self, container_id: str) -> None:
        self._record("RemoveContainer", container_id)
        self.containers.pop(container_id, None)

    async def list_containers(self, sandbox_id: str = "",
                              labels: dict[str, str] | None = None) -> list[pb.Container]:
        self._record("ListContainers")
        return [pb.Container(id=c.id, pod_sandbox_id=c.sandbox_id, metadata=c.config.metadata,
                             image=c.config.image, image_ref=c.image_ref, state=c.state, created_at=c.created_at,
                             labels=c.config.labels, annotations=c.config.annotations)
                for c in self.containers.values()
                if (not sandbox_id or c.sandbox_id == sandbox_id) and _matches(c.config.labels, labels)]

    async def container_status(self, container_id: str) -> pb.ContainerStatus:
        self._record("ContainerStatus", container_id)
        c = self._container("ContainerStatus", container_id)
        return pb.ContainerStatus(id=c.id, metadata=c.config.metadata, state=c.state, created_at=c.created_at,
                                  started_at=c.started_at, finished_at=c.finished_at, exit_code=c.exit_code,
                                  image=c.config.image, image_ref=c.image_ref, reason=c.reason,
                                  labels=c.config.labels, annotations=c.config.annotations,
                                  mounts=c.config.mounts, log_path=c.config.log_path)

    async def update_container_resources(self, container_id: str, linux: pb.LinuxContainerResources) -> None:
        self._record("UpdateContainerResources", container_id)
        self._container("UpdateContainerResources", container_id).config.linux.resources.CopyFrom(linux)

    async def reopen_container_log(self, container_id: str) -> None:
        self._record("ReopenContainerLog", container_id)
        if self._container("ReopenContainerLog", container_id).state != pb.CONTAINER_RUNNING:
            raise CRIError("ReopenContainerLog", "UNKNOWN", f"container {container_id} is not running")

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: int) -> pb.ExecSyncResponse:
        self._record("ExecSync", f"{container_id} {' '.join(cmd)}")
        if self._container("ExecSync", container_id).state != pb.CONTAINER_RUNNING:
            raise CRIError("ExecSync", "UNKNOWN", f"container {container_id} is not running")
        return self.exec_results.get(" ".join(cmd), pb.ExecSyncResponse())

    async def exec(self, request: pb.ExecRequest) -> str:
        self._record("Exec", f"{request.container_id} {' '.join(request.cmd)}")
        self._container("Exec", request.container_id)
        return f"{self.streaming_url}/exec/{request.container_id}"

    async def attach(self, request: pb.AttachRequest) -> str:
        self._record("Attach", request.container_id)
        self._container("Attach", request.container_id)
        return f"{self.streaming_url}/attach/{request.container_id}"

    async def port_forward(self, sandbox_id: str, ports: list[int]) -> str:
        self._record("PortForward", sandbox_id)
        self._sandbox("PortForward", sandbox_id)
        return f"{self.streaming_url}/portforward/{sandbox_id}"

    async def list_container_stats(self, sandbox_id: str = "") -> list[pb.ContainerStats]:
        self._record("ListContainerStats", sandbox_id)
        now = self._ns()
        return [pb.ContainerStats(
                    attributes=pb.ContainerAttributes(id=c.id, metadata=c.config.metadata, labels=c.config.labels),
                    cpu=pb.CpuUsage(timestamp=now, usage_core_nano_seconds=pb.UInt64Value(value=0)),
                    memory=pb.MemoryUsage(timestamp=now, working_set_bytes=pb.UInt64Value(value=0)))
                for c in self.containers.values()
                if c.state == pb.CONTAINER_RUNNING and (not sandbox_id or c.sandbox_id == sandbox_id)]

    # -- ImageService ----------------------------------------------------------------------------
    async def list_images(self) -> list[pb.Image]:
        self._record("ListImages")
        return [pb.Image(id=ref, repo_tags=[name], size=1) for name, ref in self.images.items()]

    async def remove_image(self, image: str) -> None:
        self._record("RemoveImage", image)
        self.images.pop(image, None)

    async def image_fs_info(self) -> pb.ImageFsInfoResponse:
        self._record("ImageFsInfo")
        usage = pb.FilesystemUsage(timestamp=self._ns(), fs_id=pb.FilesystemIdentifier(mountpoint="/fake"),
                                   used_bytes=pb.UInt64Value(value=len(self.images)))
        return pb.ImageFsInfoResponse(image_filesystems=[usage])

    async def image_status(self, image: str) -> pb.Image | None:
        self._record("ImageStatus", image)
        if image not in self.images:
            return None
        return pb.Image(id=self.images[image], repo_tags=[image], size=1)

    async def pull_image(self, image: str, sandbox_config: pb.PodSandboxConfig | None = None,
                         auth: pb.AuthConfig | None = None) -> str:
        self._record("PullImage", f"{image} {auth.username if auth else ''}".strip())
        if self.registry_user and (auth is None or auth.username != self.registry_user):
            raise CRIError("PullImage", "UNKNOWN", f'failed to pull and unpack image "{image}": 401 Unauthorized')
        if not self.pullable:
            raise CRIError("PullImage", "UNKNOWN", f'failed to pull and unpack image "{image}": not found')
        return self.images.get(image) or self.add_image(image)


def _matches(have: Mapping[str, str], want: dict[str, str] | None) -> bool:
    return all(have.get(k) == v for k, v in (want or {}).items())
