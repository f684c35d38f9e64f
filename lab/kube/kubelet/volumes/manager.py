"""VolumeManager: the pod volumes this kubelet fills on the node, and the CRI mounts that hand
them to containers (upstream volumemanager + makeMounts).

`projected`, `configMap`, `secret` and `downwardAPI` volumes are directories
`<root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>` written by the AtomicWriter (a
configMap volume is the projection of one ConfigMap); `emptyDir` is a plain directory there
(a tmpfs for `medium: Memory`) and `hostPath` the node's own path after upstream's type check.
`setup` runs before the pod's sandbox starts: while a volume has
never been written (no token yet, no `kube-root-ca.crt`), it raises VolumeNotReady and the pod
stays ContainerCreating; retries back off from 0.5 s to about 2 min, as upstream's volume
operations. Once written, a volume is re-projected at most every RESYNC_PERIOD (tokens renew,
ConfigMaps change); a failure then leaves the last good files in place. Volumes of other kinds
(persistent volume claims...) are not this kubelet's yet: their mounts are left out.
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
from lab.kube.machinery.quantity import to_bytes

log = logging.getLogger(__name__)
PROJECTED_PLUGIN_DIR = "kubernetes.io~projected"
EMPTY_DIR_PLUGIN_DIR = "kubernetes.io~empty-dir"
# volume kind -> (plugin directory, upstream default mode); each is written as a projection
ATOMIC_KINDS = {"projected": (PROJECTED_PLUGIN_DIR, 0o644), "configMap": ("kubernetes.io~configmap", 0o644),
                "secret": ("kubernetes.io~secret", 0o644), "downwardAPI": ("kubernetes.io~downward-api", 0o644)}
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                   "BlockDevice")
RESYNC_PERIOD = 60.0  # upstream syncFrequency: how often a running pod's volumes are re-projected
RETRY_INITIAL, RETRY_MAXIMUM = 0.5, 122.0  # upstream exponentialbackoff for volume operations
PROPAGATION = {"HostToContainer": pb.PROPAGATION_HOST_TO_CONTAINER, "Bidirectional": pb.PROPAGATION_BIDIRECTIONAL}


class VolumeNotReady(Exception):
    """A pod's volume has not been set up yet; the pod must wait `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def as_projection(kind: str, source: Obj) -> Obj:
    """A configMap, secret or downwardAPI volume as the projected volume it is equivalent to."""
    if kind == "projected":
        return source
    default_mode = source.get("defaultMode", ATOMIC_KINDS[kind][1])
    if kind == "downwardAPI":
        return {"defaultMode": default_mode, "sources": [{"downwardAPI": {"items": source.get("items") or []}}]}
    name = source.get("secretName") if kind == "secret" else source.get("name")
    inner = {"name": name, "items": source.get("items") or [], "optional": bool(source.get("optional"))}
    return {"defaultMode": default_mode, "sources": [{kind: inner}]}


def atomic_volumes(pod: Obj) -> Iterator[tuple[str, str, Obj]]:
    """(name, plugin directory, projection) of each volume the AtomicWriter fills."""
    for volume in spec_of(pod).get("volumes") or []:
        for kind, (plugin, _) in ATOMIC_KINDS.items():
            if isinstance(volume.get(kind), dict):
                yield str(volume["name"]), plugin, as_projection(kind, volume[kind])


def projected_volumes(pod: Obj) -> Iterator[tuple[str, Obj]]:
    for name, _, source in atomic_volumes(pod):
        yield name, source


def _volume(pod: Obj, kind: str) -> Iterator[tuple[str, Obj]]:
    for volume in spec_of(pod).get("volumes") or []:
        if isinstance(volume.get(kind), dict):
            yield str(volume["name"]), volume[kind]


def check_host_path(path: str, kind: str) -> None:
    """Upstream hostPath type checker; the ...OrCreate types create what is missing."""
    import stat
    if kind not in HOST_PATH_TYPES:
        raise OSError(f"invalid HostPathType {kind}")
    if kind == "DirectoryOrCreate" and not os.path.exists(path):
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        with open(path, "a"):
            os.chmod(path, 0o644)
    if kind == "":
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        what = {"Directory": "directory", "File": "file", "Socket": "socket", "CharDevice": "character device",
                "BlockDevice": "block device"}.get(kind.removesuffix("OrCreate"), "path")
        raise OSError(f"hostPath type check failed: {path} is not a {what}") from None
    wanted = {"DirectoryOrCreate": (stat.S_ISDIR, "directory"), "Directory": (stat.S_ISDIR, "directory"),
              "FileOrCreate": (stat.S_ISREG, "file"), "File": (stat.S_ISREG, "file"),
              "Socket": (stat.S_ISSOCK, "socket"), "CharDevice": (stat.S_ISCHR, "character device"),
              "BlockDevice": (stat.S_ISBLK, "block device")}[kind]
    if not wanted[0](mode):
        raise OSError(f"hostPath type check failed: {path} is not a {wanted[1]}")


class VolumeManager:
    def __init__(self, root_dir: str | Path, tokens: TokenManager, objects: ObjectGetter,
                 clock: Callable[[], float] = time.time, resync_period: float = RESYNC_PERIOD) -> None:
        self.root = Path(root_dir)
        self.resync_period = resync_period
        self.tokens, self.objects, self.clock = tokens, objects, clock
        self.retry = Backoff(RETRY_INITIAL, RETRY_MAXIMUM, clock=clock)
        self._failed: dict[str, tuple[float, str]] = {}  # uid -> (when, why) of the last failed setup
        self._synced_at: dict[str, float] = {}

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def volume_dir(self, uid: str, name: str, plugin: str = PROJECTED_PLUGIN_DIR) -> Path:
        return self.pod_dir(uid) / "volumes" / plugin / name

    def _written(self, uid: str, name: str, plugin: str = PROJECTED_PLUGIN_DIR) -> bool:
        return (self.volume_dir(uid, name, plugin) / atomic_writer.DATA_DIR).is_symlink()

    async def _local_volumes(self, pod: Obj) -> list[str]:
        """emptyDir directories (tmpfs for medium Memory) and hostPath checks; the problems found."""
        uid, problems = meta.uid(pod), []
        for name, source in _volume(pod, "emptyDir"):
            directory = self.volume_dir(uid, name, EMPTY_DIR_PLUGIN_DIR)
            try:
                await asyncio.to_thread(self._make_dir, uid, directory, 0o777)
                if source.get("medium") == "Memory" and not await asyncio.to_thread(os.path.ismount, directory):
                    await mount_tmpfs(directory, source.get("sizeLimit"))
            except OSError as exc:
                problems.append(f'MountVolume.SetUp failed for volume "{name}" : {exc}')
        for name, source in _volume(pod, "hostPath"):
            try:
                await asyncio.to_thread(check_host_path, str(source.get("path", "")), str(source.get("type") or ""))
            except OSError as exc:
                problems.append(f'MountVolume.SetUp failed for volume "{name}" : {exc}')
        return problems

    async def setup(self, pod: Obj) -> None:
        """Project every projected volume of `pod`; VolumeNotReady while one was never written."""
        uid = meta.uid(pod)
        volumes = list(atomic_volumes(pod))
        local_problems = await self._local_volumes(pod)
        all_written = all(self._written(uid, name, plugin) for name, plugin, _ in volumes) and not local_problems
        if all_written and self.clock() - self._synced_at.get(uid, float("-inf")) < self.resync_period:
            return
        if not all_written and uid in self._failed:
            when, why = self._failed[uid]
            if (wait := self.retry.remaining(uid, when)) > 0:
                raise VolumeNotReady(why, wait)
        problems = list(local_problems)
        for name, plugin, source in volumes:
            try:
                files = await projected.payload(pod, source, self.tokens, self.objects)
                if await asyncio.to_thread(self._write, uid, name, files, plugin):
                    log.info("Volume %s (%s) of pod %s written", name, plugin, meta.key(pod))
            except (projected.VolumeError, atomic_writer.InvalidPayload, OSError) as exc:
                why = f'MountVolume.SetUp failed for volume "{name}" : {exc}'
                if self._written(uid, name, plugin):  # the container keeps the last good files
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

    def _make_dir(self, uid: str, directory: Path, mode: int) -> None:
        if not directory.is_dir():
            self.pod_dir(uid).mkdir(mode=0o750, parents=True, exist_ok=True)  # the kubelet's own
            directory.mkdir(mode=mode, parents=True, exist_ok=True)
            os.chmod(directory, mode)  # the container's view of the mount point, whatever the umask

    def _write(self, uid: str, name: str, files: projected.Payload, plugin: str = PROJECTED_PLUGIN_DIR) -> bool:
        directory = self.volume_dir(uid, name, plugin)
        self._make_dir(uid, directory, 0o755)
        return atomic_writer.write(directory, files)

    def mounts(self, pod: Obj, container: Obj) -> list[pb.Mount]:
        """The CRI mounts of `container`'s volumeMounts that name a volume of `pod` this kubelet serves."""
        uid = meta.uid(pod)
        hosts: dict[str, tuple[Path, bool]] = {  # name -> (host path, always read-only)
            name: (self.volume_dir(uid, name, plugin), True) for name, plugin, _ in atomic_volumes(pod)}
        hosts.update({name: (self.volume_dir(uid, name, EMPTY_DIR_PLUGIN_DIR), False)
                      for name, _ in _volume(pod, "emptyDir")})
        hosts.update({name: (Path(str(source.get("path", ""))), False) for name, source in _volume(pod, "hostPath")})
        out = []
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") not in hosts:
                continue
            host, atomic = hosts[str(mount["name"])]
            if mount.get("subPath"):
                try:
                    host = host / atomic_writer.validate_path(str(mount["subPath"]))
                except atomic_writer.InvalidPayload as exc:
                    log.warning("Pod %s: volumeMount %s left out: subPath %s", meta.key(pod), mount["name"], exc)
                    continue
            # upstream mounts atomic-writer volumes read-only whatever the pod says
            readonly = atomic or bool(mount.get("readOnly"))
            out.append(pb.Mount(container_path=str(mount["mountPath"]), host_path=str(host), readonly=readonly,
                                propagation=PROPAGATION.get(str(mount.get("mountPropagation")),
                                                            pb.PROPAGATION_PRIVATE)))
        return out

    async def cleanup(self, uid: str) -> None:
        """Forget pod `uid`: its directory and its tokens go (its containers are already removed)."""
        self.tokens.forget_pod(uid)
        self.retry.reset(uid)
        self._failed.pop(uid, None)
        self._synced_at.pop(uid, None)
        await unmount_below(self.pod_dir(uid))  # Memory emptyDirs
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


async def mount_tmpfs(directory: Path, size_limit: object) -> None:
    """A memory-backed emptyDir (upstream mounts tmpfs, sized by sizeLimit when set)."""
    options = ["-o", f"size={to_bytes(str(size_limit))}"] if size_limit else []
    proc = await asyncio.create_subprocess_exec("mount", "-t", "tmpfs", *options, "tmpfs", str(directory),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise OSError(f"mount tmpfs on {directory}: {out.decode(errors='replace').strip()}")


async def unmount_below(directory: Path) -> None:
    """Unmount every mount point under `directory`, deepest first."""
    prefix = str(directory).rstrip("/") + "/"
    try:
        mounts = await asyncio.to_thread(Path("/proc/self/mounts").read_text)
    except OSError:
        return
    points = sorted({line.split()[1] for line in mounts.splitlines() if len(line.split()) > 1
                     and line.split()[1].startswith(prefix)}, key=len, reverse=True)
    for point in points:
        proc = await asyncio.create_subprocess_exec("umount", point, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        if await proc.wait() != 0:
            log.error("could not unmount %s", point)


def from_api(client: Client, root_dir: str | Path, objects: ObjectGetter | None = None,
             resync_period: float = RESYNC_PERIOD) -> VolumeManager:
    """The kubelet's volume manager: tokens by TokenRequest and ConfigMaps/Secrets by GET, through
    `client` (or the kubelet's shared `objects` cache)."""
    return VolumeManager(root_dir, TokenManager(APITokenSource(client)), objects or CachedObjects(client),
                         resync_period=resync_period)
