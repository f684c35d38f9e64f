"""Node registration and status (upstream kubelet_node_status.go): POST the Node, then PATCH its status.

The Node carries capacity (cpu, memory, pods, ephemeral-storage), addresses, nodeInfo and the
four conditions with heartbeats. Ready stays False (KubeletNotReady, NetworkReady=false) until
the pod network is configured, as upstream reports a node whose CNI config is missing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.kube.client import Client
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError
from lab.kube.kubelet.eviction import Threshold
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, status_of
from lab.kube.machinery.quantity import cpu_millis, format_quantity, to_bytes

log = logging.getLogger(__name__)
KUBELET_VERSION = "v1.30.0-kubelab"
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: cni plugin not initialized")
SHUTTING_DOWN = "node is shutting down"  # upstream's nodeshutdown ShutdownStatus error
PRESSURE = (("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))


def arch() -> str:
    return ARCH.get(platform.machine(), platform.machine())


def os_image(path: Path = Path("/etc/os-release")) -> str:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def capacity(root_dir: str, max_pods: int) -> dict[str, str]:
    stat = os.statvfs(root_dir if os.path.isdir(root_dir) else "/")
    return {"cpu": str(os.cpu_count() or 1), "memory": f"{memory_bytes() // 1024}Ki", "pods": str(max_pods),
            "ephemeral-storage": f"{stat.f_blocks * stat.f_frsize // 1024}Ki"}


@dataclass
class NodeFactsProvider:
    """What the kubelet reports about its machine; fields are filled once at start."""

    name: str
    node_ip: str
    hostname: str
    root_dir: str = "/var/lib/kubelet"
    max_pods: int = 110
    runtime_version: str = "containerd://unknown"  # from CRI Version: <runtime_name>://<version>
    kubelet_port: int = 10250
    extra_labels: dict[str, str] = field(default_factory=dict)
    reserved: list[dict[str, str]] = field(default_factory=list)  # systemReserved, kubeReserved
    hard_eviction: list[Threshold] = field(default_factory=list)

    def labels(self) -> dict[str, str]:
        return {"kubernetes.io/hostname": self.hostname, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch(),
                "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch(), **self.extra_labels}

    def node_info(self) -> dict[str, str]:
        uname = platform.uname()
        return {"machineID": _read("/etc/machine-id"), "systemUUID": _read("/sys/class/dmi/id/product_uuid"),
                "bootID": _read("/proc/sys/kernel/random/boot_id"), "kernelVersion": uname.release,
                "osImage": os_image(), "containerRuntimeVersion": self.runtime_version,
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux", "architecture": arch()}


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


UNDER_PRESSURE = {"MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
                  "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
                  "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available")}
MAX_IMAGES, MAX_NAMES_PER_IMAGE = 50, 5  # upstream nodeStatusMaxImages, maxNamesPerImageInNodeStatus


def conditions(ready: bool, old: list[Obj], now: str, pressure: set[str] | frozenset[str] = frozenset(),
               shutting_down: bool = False) -> list[Obj]:
    previous = {c.get("type"): c for c in old}
    wanted = [(t, "True", *UNDER_PRESSURE[t]) if t in pressure else (t, "False", r, m) for t, r, m in PRESSURE]
    # upstream's ReadyCondition: every error the kubelet knows of, aggregated
    not_ready = [m for m, bad in ((NETWORK_NOT_READY, not ready), (SHUTTING_DOWN, shutting_down)) if bad]
    wanted.append(("Ready", "False", "KubeletNotReady", errors.aggregate(not_ready)) if not_ready
                  else ("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
    out = []
    for kind, status, reason, message in wanted:
        prev = previous.get(kind) or {}
        moved = prev.get("status") != status or not prev.get("lastTransitionTime")
        out.append({"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now,
                    "lastTransitionTime": now if moved else prev["lastTransitionTime"]})
    return out


def allocatable(cap: dict[str, str], reserved: list[dict[str, str]], hard: list[Threshold]) -> dict[str, str]:
    """Upstream GetNodeAllocatable: capacity minus system and kube reservations and, for memory and
    ephemeral-storage, the hard eviction threshold; never below zero."""
    out = dict(cap)
    for resource in ("cpu", "memory", "ephemeral-storage", "pods"):
        if resource not in cap:
            continue
        if resource == "cpu":
            left = cpu_millis(cap[resource]) - sum(cpu_millis(r[resource]) for r in reserved if resource in r)
            out[resource] = format_quantity(max(0, left) / 1000)
            continue
        total = to_bytes(cap[resource])
        left = total - sum(to_bytes(r[resource]) for r in reserved if resource in r)
        signal = {"memory": "memory.available", "ephemeral-storage": "nodefs.available"}.get(resource)
        left -= sum(t.value(total) for t in hard if t.signal == signal)
        binary = resource != "pods"
        out[resource] = format_quantity(max(0, left) - (max(0, left) % 1024 if binary else 0), binary=binary)
    return out


def image_list(images: list[pb.Image]) -> list[Obj]:
    """Upstream setNodeImages: the largest images first, each with up to five names (digests, then tags)."""
    ordered = sorted(images, key=lambda i: i.size, reverse=True)[:MAX_IMAGES]
    return [{"names": [*i.repo_digests, *i.repo_tags][:MAX_NAMES_PER_IMAGE], "sizeBytes": i.size} for i in ordered
            if i.repo_digests or i.repo_tags]


def node_status(facts: NodeFactsProvider, ready: bool, old: Obj, pressure: set[str] | frozenset[str] = frozenset(),
                images: list[pb.Image] | None = None, shutting_down: bool = False) -> Obj:
    cap = capacity(facts.root_dir, facts.max_pods)
    addresses = [{"type": "InternalIP", "address": facts.node_ip}] if facts.node_ip else []
    addresses.append({"type": "Hostname", "address": facts.hostname})
    status = {"capacity": cap, "allocatable": allocatable(cap, facts.reserved, facts.hard_eviction),
              "addresses": addresses, "nodeInfo": facts.node_info(),
              "conditions": conditions(ready, status_of(old).get("conditions") or [], meta.now(), pressure,
                                        shutting_down),
              "daemonEndpoints": {"kubeletEndpoint": {"Port": facts.kubelet_port}}}
    if images is not None:
        status["images"] = image_list(images)
    return status


class NodeStatusManager:
    """`register()` once, then `run()` posts status every `frequency` seconds (nodeStatusUpdateFrequency)."""

    def __init__(self, client: Client, facts: NodeFactsProvider, ready: Callable[[], bool],
                 frequency: float = 10.0, pressure: Callable[[], set[str]] = set,
                 images: Callable[[], Awaitable[list[pb.Image]]] | None = None,
                 shutting_down: Callable[[], bool] = lambda: False) -> None:
        """`pressure` names the pressure conditions the eviction manager holds; `images` lists the
        runtime's images for status.images; `shutting_down` is the node shutdown manager's state."""
        self.client, self.facts, self.ready, self.frequency = client, facts, ready, frequency
        self.pressure, self.images, self.shutting_down = pressure, images, shutting_down
        self.node: Obj = {}

    def allocatable(self) -> dict[str, str]:
        """What pods may use of this node: capacity less reservations and the hard eviction thresholds."""
        return allocatable(capacity(self.facts.root_dir, self.facts.max_pods), self.facts.reserved,
                           self.facts.hard_eviction)

    async def _images(self) -> list[pb.Image] | None:
        if self.images is None:
            return None
        try:
            return await self.images()
        except CRIError as exc:
            log.warning("Listing images for the node status failed: %s", exc)
            return None

    async def register(self) -> Obj:
        """Create the Node; if it exists (a kubelet restart), keep it and merge our labels in."""
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.facts.name, "labels": self.facts.labels()},
                "status": node_status(self.facts, False, {})}
        try:
            self.node = await self.client.create(catalog.NODES, body)
            log.info("Successfully registered node %s", self.facts.name)
        except errors.AlreadyExists:
            self.node = await self.client.patch(catalog.NODES, self.facts.name,
                                                {"metadata": {"labels": self.facts.labels()}})
            log.info("Node %s was already registered; updating it", self.facts.name)
        await self.update()
        return self.node

    async def update(self) -> None:
        status = node_status(self.facts, self.ready(), self.node, self.pressure(), await self._images(),
                             self.shutting_down())
        self.node = await self.client.patch(catalog.NODES, self.facts.name, {"status": status},
                                            subresource="status")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.frequency)
            try:
                await self.update()
            except errors.NotFound:
                log.warning("Node %s was deleted; registering it again", self.facts.name)
                await self.register()
            except (TimeoutError, errors.APIError, OSError) as exc:
                log.warning("Error updating node status, will retry: %s", exc)
