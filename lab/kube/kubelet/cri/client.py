"""RemoteRuntime: the async CRI v1 client (grpc.aio) the kubelet uses to drive containerd.

One channel to the runtime's unix socket; every call carries a deadline, and gRPC failures come
back as `CRIError`. Calls are built with `channel.unary_unary` on the upstream method paths
(`/runtime.v1.RuntimeService/...`) so they work with any grpcio >= 1.60.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

import grpc
from google.protobuf.message import Message

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError

DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"
DEFAULT_TIMEOUT = 120.0  # upstream --runtime-request-timeout is 2m
PULL_TIMEOUT = 600.0     # pulls may be slow; upstream uses no deadline on pulls
MAX_MESSAGE = 16 * 1024 * 1024  # as the kubelet's remote runtime client

R = TypeVar("R", bound=Message)


def _target(endpoint: str) -> str:
    """gRPC wants `unix:/abs/path` or `unix:///abs/path`; accept a bare path too."""
    return endpoint if "://" in endpoint or endpoint.startswith("unix:") else f"unix://{endpoint}"


class RemoteRuntime:
    """`async with RemoteRuntime("unix:///run/containerd/containerd.sock") as rt: await rt.version()`."""

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, timeout: float = DEFAULT_TIMEOUT,
                 observe: Callable[[str, float, bool], None] | None = None) -> None:
        """`observe(method, seconds, failed)` is told of every call (the kubelet's runtime metrics)."""
        self.endpoint = endpoint
        self.timeout = timeout
        self.observe = observe
        self._channel: grpc.aio.Channel | None = None

    async def __aenter__(self) -> Self:
        self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def open(self) -> None:
        if self._channel is None:
            options = [("grpc.max_receive_message_length", MAX_MESSAGE),
                       ("grpc.max_send_message_length", MAX_MESSAGE)]
            self._channel = grpc.aio.insecure_channel(_target(self.endpoint), options=options)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _call(self, service: str, method: str, request: Message, reply: type[R],
                    timeout: float | None = None) -> R:
        self.open()
        assert self._channel is not None
        rpc = self._channel.unary_unary(f"/runtime.v1.{service}/{method}",
                                        request_serializer=type(request).SerializeToString,
                                        response_deserializer=reply.FromString)
        started, failed = time.monotonic(), True
        try:
            # grpc is untyped; the response_deserializer above makes the answer a `reply`
            result: R = await rpc(request, timeout=timeout or self.timeout)
            failed = False
        except grpc.aio.AioRpcError as exc:
            raise CRIError(method, exc.code().name, exc.details() or "") from exc
        finally:
            if self.observe is not None:
                self.observe(method, time.monotonic() - started, failed)
        return result

    async def _rt(self, method: str, request: Message, reply: type[R], timeout: float | None = None) -> R:
        return await self._call("RuntimeService", method, request, reply, timeout)

    # -- RuntimeService --------------------------------------------------------------------------
    async def version(self) -> pb.VersionResponse:
        return await self._rt("Version", pb.VersionRequest(version="v1"), pb.VersionResponse)

    async def status(self) -> pb.RuntimeStatus:
        return (await self._rt("Status", pb.StatusRequest(), pb.StatusResponse)).status

    async def run_pod_sandbox(self, config: pb.PodSandboxConfig, runtime_handler: str = "") -> str:
        req = pb.RunPodSandboxRequest(config=config, runtime_handler=runtime_handler)
        return (await self._rt("RunPodSandbox", req, pb.RunPodSandboxResponse)).pod_sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        await self._rt("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id),
                       pb.StopPodSandboxResponse)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        await self._rt("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id),
                       pb.RemovePodSandboxResponse)

    async def pod_sandbox_status(self, sandbox_id: str) -> pb.PodSandboxStatus:
        req = pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)
        return (await self._rt("PodSandboxStatus", req, pb.PodSandboxStatusResponse)).status

    async def list_pod_sandbox(self, labels: dict[str, str] | None = None) -> list[pb.PodSandbox]:
        req = pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector=labels or {}))
        return list((await self._rt("ListPodSandbox", req, pb.ListPodSandboxResponse)).items)

    async def create_container(self, sandbox_id: str, config: pb.ContainerConfig,
                               sandbox_config: pb.PodSandboxConfig) -> str:
        req = pb.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=config, sandbox_config=sandbox_config)
        return (await self._rt("CreateContainer", req, pb.CreateContainerResponse)).container_id

    async def start_container(self, container_id: str) -> None:
        await self._rt("StartContainer", pb.StartContainerRequest(container_id=container_id),
                       pb.StartContainerResponse)

    async def stop_container(self, container_id: str, timeout: int) -> None:
        # the runtime waits `timeout` seconds before SIGKILL: our deadline must outlast it
        await self._rt("StopContainer", pb.StopContainerRequest(container_id=container_id, timeout=timeout),
                       pb.StopContainerResponse, timeout=self.timeout + timeout)

    async def remove_container(self, container_id: str) -> None:
        await self._rt("RemoveContainer", pb.RemoveContainerRequest(container_id=container_id),
                       pb.RemoveContainerResponse)

    async def list_containers(self, sandbox_id: str = "",
                              labels: dict[str, str] | None = None) -> list[pb.Container]:
        req = pb.ListContainersRequest(filter=pb.ContainerFilter(pod_sandbox_id=sandbox_id,
                                                                 label_selector=labels or {}))
        return list((await self._rt("ListContainers", req, pb.ListContainersResponse)).containers)

    async def container_status(self, container_id: str) -> pb.ContainerStatus:
        req = pb.ContainerStatusRequest(container_id=container_id)
        return (await self._rt("ContainerStatus", req, pb.ContainerStatusResponse)).status

    async def update_container_resources(self, container_id: str, linux: pb.LinuxContainerResources) -> None:
        req = pb.UpdateContainerResourcesRequest(container_id=container_id, linux=linux)
        await self._rt("UpdateContainerResources", req, pb.UpdateContainerResourcesResponse)

    async def reopen_container_log(self, container_id: str) -> None:
        await self._rt("ReopenContainerLog", pb.ReopenContainerLogRequest(container_id=container_id),
                       pb.ReopenContainerLogResponse)

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: int) -> pb.ExecSyncResponse:
        # timeout 0 means none to the runtime; our deadline must outlast a real one
        req = pb.ExecSyncRequest(container_id=container_id, cmd=cmd, timeout=timeout)
        return await self._rt("ExecSync", req, pb.ExecSyncResponse, timeout=self.timeout + timeout)

    async def exec(self, request: pb.ExecRequest) -> str:
        return (await self._rt("Exec", request, pb.ExecResponse)).url

    async def attach(self, request: pb.AttachRequest) -> str:
        return (await self._rt("Attach", request, pb.AttachResponse)).url

    async def port_forward(self, sandbox_id: str, ports: list[int]) -> str:
        req = pb.PortForwardRequest(pod_sandbox_id=sandbox_id, port=ports)
        return (await self._rt("PortForward", req, pb.PortForwardResponse)).url

    async def list_container_stats(self, sandbox_id: str = "") -> list[pb.ContainerStats]:
        req = pb.ListContainerStatsRequest(filter=pb.ContainerStatsFilter(pod_sandbox_id=sandbox_id))
        return list((await self._rt("ListContainerStats", req, pb.ListContainerStatsResponse)).stats)

    # -- ImageService ----------------------------------------------------------------------------
    async def list_images(self) -> list[pb.Image]:
        reply = await self._call("ImageService", "ListImages", pb.ListImagesRequest(), pb.ListImagesResponse)
        return list(reply.images)

    async def remove_image(self, image: str) -> None:
        await self._call("ImageService", "RemoveImage", pb.RemoveImageRequest(image=pb.ImageSpec(image=image)),
                         pb.RemoveImageResponse)

    async def image_fs_info(self) -> pb.ImageFsInfoResponse:
        return await self._call("ImageService", "ImageFsInfo", pb.ImageFsInfoRequest(), pb.ImageFsInfoResponse)

    async def image_status(self, image: str) -> pb.Image | None:
        req = pb.ImageStatusRequest(image=pb.ImageSpec(image=image))
        reply = await self._call("ImageService", "ImageStatus", req, pb.ImageStatusResponse)
        return reply.image if reply.HasField("image") else None

    async def pull_image(self, image: str, sandbox_config: pb.PodSandboxConfig | None = None,
                         auth: pb.AuthConfig | None = None) -> str:
        req = pb.PullImageRequest(image=pb.ImageSpec(image=image), sandbox_config=sandbox_config, auth=auth)
        reply = await self._call("ImageService", "PullImage", req, pb.PullImageResponse, timeout=PULL_TIMEOUT)
        return reply.image_ref
