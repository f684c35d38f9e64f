"""A container's termination message (upstream kuberuntime getTerminationMessage).

Each container gets an empty file of the kubelet's, `<pod dir>/containers/<name>/<attempt>`,
mounted at its `terminationMessagePath`; when the container has exited, the last 4 KiB of that
file are its terminated state's message. With `FallbackToLogsOnError` a failed container that
wrote nothing there gets the tail of its log instead (80 lines, 2 KiB).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.logs import LogOptions, read_logs
from lab.kube.machinery.objects import Obj

MAX_MESSAGE = 4 * 1024  # upstream MaxContainerTerminationMessageLength
LOG_TAIL_LINES, LOG_TAIL_BYTES = 80, 2048  # upstream MaxContainerTerminationMessageLog{Lines,Length}


def mount(pod_dir: Path, container: Obj, attempt: int) -> pb.Mount | None:
    """Create the container's termination-message file and the mount that hands it over."""
    path = container.get("terminationMessagePath")
    if not path:
        return None
    host = pod_dir / "containers" / container["name"] / str(attempt)
    host.parent.mkdir(parents=True, exist_ok=True)
    host.touch(mode=0o666)
    os.chmod(host, 0o666)  # any user the container runs as may write it
    return pb.Mount(container_path=str(path), host_path=str(host))


def _tail(path: str) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - MAX_MESSAGE))
        return f.read(MAX_MESSAGE).decode("utf-8", "replace")


async def _log_tail(log_path: str) -> str:
    chunks = [c async for c in read_logs(log_path, LogOptions(tail_lines=LOG_TAIL_LINES, limit_bytes=LOG_TAIL_BYTES))]
    return b"".join(chunks).decode("utf-8", "replace")


async def message(status: pb.ContainerStatus) -> str:
    """The runtime's own message of an exited container, then (after ": ") what the container left."""
    own = status.message
    if status.state != pb.CONTAINER_EXITED:
        return own
    path = status.annotations.get(lbl.TERMINATION_MESSAGE_PATH, "")
    fallback = (status.annotations.get(lbl.TERMINATION_MESSAGE_POLICY) == "FallbackToLogsOnError"
                and status.exit_code != 0 and status.reason != "ContainerCannotRun")
    text, check_logs = "", fallback
    for m in status.mounts if path else []:
        if m.container_path != path:
            continue
        try:
            text = await asyncio.to_thread(_tail, m.host_path)
        except FileNotFoundError:
            break
        except OSError as exc:
            text, check_logs = f"Error on reading termination log {m.host_path}: {exc}", False
            break
        check_logs = fallback and not text
        break
    if check_logs and status.log_path:
        try:
            text = await _log_tail(status.log_path)
        except OSError:
            text = ""
    if not text:
        return own
    return f"{own}: {text}" if own else text
