"""Container log rotation, as upstream's container log manager (pkg/kubelet/logs).

Every `containerLogMonitorInterval` each running container's log file is looked at; once it
reaches `containerLogMaxSize` it is renamed to `<log>.<YYYYMMDD-hhmmss>` and the runtime is
told to reopen the log (CRI ReopenContainerLog), so new lines go to a fresh `<log>`. Earlier
rotated files are gzipped (`.gz`), and only `containerLogMaxFiles - 2` of them are kept
besides the newest rotated file and the live one, oldest removed first so a reader that is
still on a recent file is not cut off.

    manager = ContainerLogManager(runtime, max_size=10 * 1024 * 1024, max_files=5)
    await manager.run()   # until cancelled
"""

from __future__ import annotations

import asyncio
import glob
import gzip
import logging
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime

from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.settings import KubeletSettings

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 10 * 1024 * 1024  # containerLogMaxSize 10Mi
DEFAULT_MAX_FILES = 5                # containerLogMaxFiles
DEFAULT_MONITOR_INTERVAL = 10.0      # containerLogMonitorInterval 10s
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"   # upstream's "20060102-150405"
COMPRESS_SUFFIX = ".gz"
TMP_SUFFIX = ".tmp"


class ContainerLogManager:
    def __init__(self, runtime: Runtime, max_size: int = DEFAULT_MAX_SIZE, max_files: int = DEFAULT_MAX_FILES,
                 interval: float = DEFAULT_MONITOR_INTERVAL,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if max_files < 2:  # upstream refuses this configuration at startup
            raise ValueError(f"max number of container log files should be larger than 1, got {max_files}")
        self.runtime, self.max_size, self.max_files, self.interval, self.now = (
            runtime, max_size, max_files, interval, now)

    @classmethod
    def from_settings(cls, runtime: Runtime, settings: KubeletSettings) -> ContainerLogManager:
        return cls(runtime, settings.container_log_max_bytes, settings.container_log_max_files,
                   settings.container_log_monitor_interval)

    async def run(self) -> None:
        while True:
            try:
                await self.rotate_all()
            except CRIError as exc:  # the runtime is down for now: try again next round
                log.warning("container log rotation: %s", exc)
            await asyncio.sleep(self.interval)

    async def rotate_all(self) -> None:
        """One round over the running containers."""
        for container in await self.runtime.list_containers():
            if container.state != pb.CONTAINER_RUNNING:
                continue
            try:
                status = await self.runtime.container_status(container.id)
            except CRIError as exc:
                log.info("container log rotation: status of %s: %s", container.id, exc)
                continue
            if status.state != pb.CONTAINER_RUNNING or not status.log_path:
                continue
            try:
                await self.rotate(container.id, status.log_path)
            except (OSError, CRIError) as exc:
                log.warning("failed to rotate log %s of container %s: %s", status.log_path, container.id, exc)

    async def rotate(self, container_id: str, path: str) -> bool:
        """Rotate `path` when it is too big; True when it was rotated."""
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            # someone removed the live file: have the runtime write a new one, as upstream
            await self.runtime.reopen_container_log(container_id)
            return False
        if size < self.max_size:
            return False
        rotated = await asyncio.to_thread(self._prepare, path)
        for old in rotated:
            if not old.endswith(COMPRESS_SUFFIX):
                await asyncio.to_thread(compress, old)
        await self._rotate_latest(container_id, path)
        return True

    def _prepare(self, path: str) -> list[str]:
        """The rotated files of `path` that stay, after dropping leftovers and the excess."""
        logs = remove_unused(glob.glob(glob.escape(path) + ".*"))
        logs.sort()  # the timestamp suffix sorts oldest first
        keep = max(self.max_files - 2, 0)  # the live file and the one rotated now make up the rest
        excess, logs = logs[:len(logs) - keep], logs[len(logs) - keep:]
        for old in excess:
            os.remove(old)
        return logs

    async def _rotate_latest(self, container_id: str, path: str) -> None:
        rotated = f"{path}.{self.now().strftime(TIMESTAMP_FORMAT)}"
        os.rename(path, rotated)
        try:
            await self.runtime.reopen_container_log(container_id)
        except CRIError:
            # the runtime keeps writing to the renamed file: give it its name back, as upstream
            os.rename(rotated, path)
            raise


def remove_unused(logs: list[str]) -> list[str]:
    """Upstream cleanupUnusedLogs: half-written `.tmp` files go, and so does an uncompressed
    file whose `.gz` exists (a compression that was interrupted after it finished)."""
    kept = []
    names = set(logs)
    for name in logs:
        if name.endswith(TMP_SUFFIX) or (not name.endswith(COMPRESS_SUFFIX) and name + COMPRESS_SUFFIX in names):
            os.remove(name)
        else:
            kept.append(name)
    return kept


def compress(path: str) -> None:
    """gzip `path` to `path.gz` through a temporary file, then remove the original."""
    tmp = path + TMP_SUFFIX
    with open(path, "rb") as source, gzip.open(tmp, "wb") as target:
        shutil.copyfileobj(source, target)
    os.rename(tmp, path + COMPRESS_SUFFIX)
    os.remove(path)
