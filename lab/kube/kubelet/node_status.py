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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.kube.client import Client
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, status_of

log = logging.getLogger(__name__)
KUBELET_VERSION = "v1.30.0-kubelab"
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: cni plugin not initialized")
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


def conditions(ready: bool, old: list[Obj], now: str) -> list[Obj]:
    previous = {c.get("type"): c for c in old}
    wanted = [(t, "False", r, m) for t, r, m in PRESSURE]
    wanted.append(("Ready", "True", "KubeletReady", "kubelet is posting ready status") if ready
                  else ("Ready", "False", "KubeletNotReady", NETWORK_NOT_READY))
    out = []
    for kind, status, reason, message in wanted:
        prev = previous.get(kind) or {}
        moved = prev.get("status") != status or not prev.get("lastTransitionTime")
        out.append({"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now,
                    "lastTransitionTime": now if moved else prev["lastTransitionTime"]})
    return out


def node_status(facts: NodeFactsProvider, ready: bool, old: Obj) -> Obj:
    cap = capacity(facts.root_dir, facts.max_pods)
    addresses = [{"type": "InternalIP", "address": facts.node_ip}] if facts.node_ip else []
    addresses.append({"type": "Hostname", "address": facts.hostname})
    return {"capacity": cap, "allocatable": dict(cap), "addresses": addresses, "nodeInfo": facts.node_info(),
            "conditions": conditions(ready, status_of(old).get("conditions") or [], meta.now()),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": facts.kubelet_port}}}


class NodeStatusManager:
    """`register()` once, then `run()` posts status every `frequency` seconds (nodeStatusUpdateFrequency)."""

    def __init__(self, client: Client, facts: NodeFactsProvider, ready: Callable[[], bool],
                 frequency: float = 10.0) -> None:
        self.client, self.facts, self.ready, self.frequency = client, facts, ready, frequency
        self.node: Obj = {}

    def allocatable(self) -> dict[str, str]:
        """What pods may use of this node (capacity; no system or kube reservations yet)."""
        return capacity(self.facts.root_dir, self.facts.max_pods)

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
        status = node_status(self.facts, self.ready(), self.node)
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
