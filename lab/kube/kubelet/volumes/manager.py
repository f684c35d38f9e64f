"""VolumeManager: the pod volumes this kubelet fills on the node, and the CRI mounts that hand
them to containers (upstream volumemanager + makeMounts, for `projected` volumes only).

Each projected volume is a directory `<root-dir>/pods/<uid>/volumes/kubernetes.io~projected/<name>`
written by the AtomicWriter. `setup` runs before the pod's sandbox starts: while a volume has
never been written (no token yet, no `kube-root-ca.crt`), it raises VolumeNotReady and the pod
stays ContainerCreating; retries back off from 0.5 s to about 2 min, as upstream's volume
operations. Once written, a volume is re-projected at most every RESYNC_PERIOD (tokens renew,
ConfigMaps change); a failure then leaves the last good files in place. Volumes of other kinds
are not this kubelet's yet: their mounts are left out, as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lab.kube.client import Client
from lab.kube.kubelet.backoff import Backoff
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.token_manager import APITokenSource, TokenManager
from lab.kube.kubelet.volumes import atomic_writer, projected
from lab.kube.kubelet.volumes.objects import CachedObjects, ObjectGetter
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
PROJECTED_PLUGIN_DIR = "kubernetes.io~projected"
RESYNC_PERIOD = 60.0  # upstream syncFrequency: how often a running pod's volumes are re-projected
RETRY_INITIAL, RETRY_MAXIMUM = 0.5, 122.0  # upstream exponentialbackoff for volume operations
PROPAGATION = {"HostToContainer": pb.PROPAGATION_HOST_TO_CONTAINER, "Bidirectional": pb.PROPAGATION_BIDIRECTIONAL}


class VolumeNotReady(Exception):
    """A pod's volume has not been set up yet; the pod must wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def projected_volumes(pod: Obj) -> Iterator[tuple[str, Obj]]:
    for volume in spec_of(pod).get("volumes") or []:
        if isinstance(volume.get("projected"), dict):
            yield str(volume["name"]), volume["projected"]


class VolumeManager:
    def __init__(self, root_dir: str | Path, tokens: TokenManager, objects: ObjectGetter,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root_dir)
        self.tokens, self.objects, self.clock = tokens, objects, clock
        self.retry = Backoff(RETRY_INITIAL, RETRY_MAXIMUM, clock=clock)
        self._failed: dict[str, tuple[float, str]] = {}  # uid -> (when, why) of the last failed setup
        self._synced_at: dict[str, float] = {}

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def volume_dir(self, uid: str, name: str) -> Path:
        return self.pod_dir(uid) / "volumes" / PROJECTED_PLUGIN_DIR / name

    def _written(self, uid: str, name: str) -> bool:
        return (self.volume_dir(uid, name) / atomic_writer.DATA_DIR).is_symlink()

    async def setup(self, pod: Obj) -> None:
        """Project every projected volume of `pod`; VolumeNotReady while one was never written."""
        uid = meta.uid(pod)
        volumes = list(projected_volumes(pod))
        all_written = all(self._written(uid, name) for name, _ in volumes)
        if all_written and self.clock() - self._synced_at.get(uid, float("-inf")) < RESYNC_PERIOD:
            return
        if not all_written and uid in self._failed:
            when, why = self._failed[uid]
            if (wait := self.retry.remaining(uid, when)) > 0:
                raise VolumeNotReady(why, wait)
        problems = []
        for name, source in volumes:
            try:
                files = await projected.payload(pod, source, self.tokens, self.objects)
                if await asyncio.to_thread(self._write, uid, name, files):
                    log.info("Projected volume %s of pod %s written", name, meta.key(pod))
            except (projected.VolumeError, atomic_writer.InvalidPayload, OSError) as exc:
                why = f'MountVolume.SetUp failed for volume "{name}" : {exc}'
                if self._written(uid, name):  # the container keeps the last good files
                    log.warning("Pod %s: %s", meta.key(pod), why)
                else:
                    problems.append(why)
        if problems:
            self.retry.next(uid)
            self._failed[uid] = (self.clock(), "; ".join(problems))
            log.warning("Unable to attach or mount volumes for pod %s (retry in %.1fs): %s", meta.key(pod),
                        self.retry.get(uid), self._failed[uid][1])  # once per attempt, not per sync
            raise VolumeNotReady(self._failed[uid][1], self.retry.get(uid))
        self.retry.reset(uid)
        self._failed.pop(uid, None)
        self._synced_at[uid] = self.clock()

    def _write(self, uid: str, name: str, files: projected.Payload) -> bool:
        directory = self.volume_dir(uid, name)
        if not directory.is_dir():
            self.pod_dir(uid).mkdir(mode=0o750, parents=True, exist_ok=True)  # the kubelet's own
            directory.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.chmod(directory, 0o755)  # the container's view of the mount point, whatever the umask
        return atomic_writer.write(directory, files)

    def mounts(self, pod: Obj, container: Obj) -> list[pb.Mount]:
        """The CRI mounts of `container`'s volumeMounts that name a projected volume of `pod`."""
        uid, names = meta.uid(pod), {name for name, _ in projected_volumes(pod)}
        out = []
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") not in names:
                continue
            host = self.volume_dir(uid, str(mount["name"]))
            if mount.get("subPath"):
                try:
                    host = host / atomic_writer.validate_path(str(mount["subPath"]))
                except atomic_writer.InvalidPayload as exc:
                    log.warning("Pod %s: volumeMount %s left out: subPath %s", meta.key(pod), mount["name"], exc)
                    continue
            # upstream mounts atomic-writer volumes read-only whatever the pod says
            out.append(pb.Mount(container_path=str(mount["mountPath"]), host_path=str(host), readonly=True,
                                propagation=PROPAGATION.get(str(mount.get("mountPropagation")),
                                                            pb.PROPAGATION_PRIVATE)))
        return out

    async def cleanup(self, uid: str) -> None:
        """Forget pod `uid`: its directory and its tokens go (its containers are already removed)."""
        self.tokens.forget_pod(uid)
        self.retry.reset(uid)
        self._failed.pop(uid, None)
        self._synced_at.pop(uid, None)
        await asyncio.to_thread(self._remove, self.pod_dir(uid))

    async def cleanup_orphans(self, live: Callable[[], set[str]]) -> None:
        """Remove the directories of pods that neither the API nor the runtime knows (upstream
        cleanupOrphanedPodDirs), e.g. pods deleted while this kubelet was down. `live()` is asked
        after the directories are listed: a pod whose directory exists was known by then."""
        pods = self.root / "pods"
        found = await asyncio.to_thread(lambda: [p.name for p in pods.iterdir() if p.is_dir()]
                                        if pods.is_dir() else [])
        for uid in set(found) - live():
            log.info("Removing the directory of orphaned pod %s", uid)
            await self.cleanup(uid)

    @staticmethod
    def _remove(directory: Path) -> None:
        if not directory.exists():
            return
        # never delete through a mount point (a volume some later plugin mounted): leave it to a human
        mounted = [p for p in directory.rglob("*") if p.is_dir() and not p.is_symlink() and os.path.ismount(p)]
        if mounted:
            log.error("Not removing %s: %s is still mounted", directory, mounted[0])
            return
        shutil.rmtree(directory)


def from_api(client: Client, root_dir: str | Path) -> VolumeManager:
    """The kubelet's volume manager: tokens by TokenRequest and ConfigMaps/Secrets by GET, through `client`."""
    return VolumeManager(root_dir, TokenManager(APITokenSource(client)), CachedObjects(client))
