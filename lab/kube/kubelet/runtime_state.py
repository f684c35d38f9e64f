"""A pod as the runtime sees it: its sandboxes and container instances, read back through CRI labels.

This snapshot is all the sync loop trusts about what is running, which is why a restarted
kubelet adopts its containers instead of starting duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet import termination_message
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime


@dataclass
class SandboxRecord:
    id: str
    attempt: int
    ready: bool
    created_at: int
    ip: str = ""


@dataclass
class ContainerRecord:
    id: str
    sandbox_id: str
    name: str
    restart_count: int
    state: int  # pb.ContainerState
    spec_hash: str
    image: str
    image_ref: str
    created_at: int
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""

    @property
    def running(self) -> bool:
        return self.state == pb.CONTAINER_RUNNING

    @property
    def exited(self) -> bool:
        return self.state in (pb.CONTAINER_EXITED, pb.CONTAINER_UNKNOWN)


@dataclass
class PodRuntime:
    sandboxes: list[SandboxRecord] = field(default_factory=list)
    containers: list[ContainerRecord] = field(default_factory=list)

    @property
    def sandbox(self) -> SandboxRecord | None:
        """The newest sandbox (the one containers should live in)."""
        return max(self.sandboxes, key=lambda s: (s.attempt, s.created_at), default=None)

    @property
    def sandbox_ip(self) -> str:
        """The newest sandbox's pod IP ("" when it has none, or is not ready)."""
        newest = self.sandbox
        return newest.ip if newest is not None else ""

    def instances(self, name: str) -> list[ContainerRecord]:
        """Instances of one container, newest first."""
        found = [c for c in self.containers if c.name == name]
        return sorted(found, key=lambda c: (c.restart_count, c.created_at), reverse=True)

    def latest(self, name: str) -> ContainerRecord | None:
        found = self.instances(name)
        return found[0] if found else None

    def previous(self, name: str) -> ContainerRecord | None:
        found = self.instances(name)
        return found[1] if len(found) > 1 else None


async def read_pod(runtime: Runtime, uid: str) -> PodRuntime:
    """Everything the runtime holds for pod `uid`; objects that vanish while we look are skipped."""
    state = PodRuntime()
    for sb in await runtime.list_pod_sandbox({lbl.POD_UID: uid}):
        record = SandboxRecord(sb.id, sb.metadata.attempt, sb.state == pb.SANDBOX_READY, sb.created_at)
        state.sandboxes.append(record)
    newest = state.sandbox
    if newest is not None and newest.ready:
        try:
            newest.ip = (await runtime.pod_sandbox_status(newest.id)).network.ip
        except CRIError as exc:
            if not exc.not_found:
                raise
    for c in await runtime.list_containers(labels={lbl.POD_UID: uid}):
        try:
            st = await runtime.container_status(c.id)
        except CRIError as exc:
            if exc.not_found:
                continue
            raise
        state.containers.append(ContainerRecord(
            id=c.id, sandbox_id=c.pod_sandbox_id, name=c.labels.get(lbl.CONTAINER_NAME, c.metadata.name),
            restart_count=lbl.restart_count(c.annotations), state=st.state,
            spec_hash=c.annotations.get(lbl.CONTAINER_HASH, ""), image=st.image.image or c.image.image,
            image_ref=st.image_ref or c.image_ref, created_at=st.created_at, started_at=st.started_at,
            finished_at=st.finished_at, exit_code=st.exit_code, reason=st.reason,
            message=await termination_message.message(st)))
    return state
