"""`GET /containerLogs/{namespace}/{pod}/{container}` on the kubelet API (upstream
server.go getContainerLogs + kubelet_pods.go GetKubeletContainerLogs).

The query is a PodLogOptions (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines,
limitBytes). The container instance comes from the pod's status as the kubelet last wrote it
(`previous` is lastState.terminated), its file from the runtime's ContainerStatus.log_path.
Errors are plain text, as go-restful writes them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from lab.kube.kubelet import logs, podconfig
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
PodLookup = Callable[[str, str], Obj | None]


class LogRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _bool(query: dict[str, str], key: str) -> bool:
    return query.get(key, "").lower() in ("true", "1")


def _int(query: dict[str, str], key: str) -> int | None:
    if key not in query or query[key] == "":
        return None
    try:
        return int(query[key])
    except ValueError:
        raise LogRequestError(400, f'Unable to decode query: strconv.ParseInt: parsing "{query[key]}": '
                                   "invalid syntax") from None


def options_from_query(query: dict[str, str], now: datetime | None = None) -> tuple[logs.LogOptions, bool]:
    """(LogOptions, previous) from a PodLogOptions query."""
    tail, limit, since_seconds = _int(query, "tailLines"), _int(query, "limitBytes"), _int(query, "sinceSeconds")
    if tail is not None and tail < 0:
        raise LogRequestError(400, "TailLines must be a greater than 0")  # upstream's wording
    since: datetime | None = None
    if query.get("sinceTime"):
        try:
            since = logs.parse_timestamp(query["sinceTime"])
        except ValueError:
            raise LogRequestError(400, f'Unable to decode query: parsing time "{query["sinceTime"]}" as '
                                       '"2006-01-02T15:04:05Z07:00": cannot parse') from None
    elif since_seconds is not None:
        since = (now or datetime.now(UTC)) - timedelta(seconds=since_seconds)
    options = logs.LogOptions(follow=_bool(query, "follow"), tail_lines=tail, since_time=since,
                              timestamps=_bool(query, "timestamps"),
                              limit_bytes=limit if limit is not None and limit > 0 else None)
    return options, _bool(query, "previous")


def _all_statuses(pod: Obj) -> list[Obj]:
    st = status_of(pod)
    return [*(st.get("containerStatuses") or []), *(st.get("initContainerStatuses") or []),
            *(st.get("ephemeralContainerStatuses") or [])]


def _in_spec(pod: Obj, name: str) -> bool:
    spec = spec_of(pod)
    return any(c.get("name") == name for key in ("containers", "initContainers", "ephemeralContainers")
               for c in spec.get(key) or [])


def container_id(pod: Obj, container: str, previous: bool) -> str:
    """Upstream validateContainerLogStatus: which instance's log, or why there is none (400)."""
    pod_name = meta.name(pod)
    status = next((s for s in _all_statuses(pod) if s.get("name") == container), None)
    if status is None:
        raise LogRequestError(400, f'container "{container}" in pod "{pod_name}" is not available')
    state, last = status.get("state") or {}, (status.get("lastState") or {}).get("terminated")
    terminated = state.get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise LogRequestError(400, f'previous terminated container "{container}" in pod "{pod_name}" not found')
        return str(last["containerID"])
    if state.get("running") is not None:
        return str(status.get("containerID", ""))
    if terminated is not None:
        if terminated.get("containerID"):
            return str(terminated["containerID"])
        if last and last.get("containerID"):
            return str(last["containerID"])
        raise LogRequestError(400, f'container "{container}" in pod "{pod_name}" is terminated')
    if last is not None:
        if not last.get("containerID"):
            raise LogRequestError(400, f'container "{container}" in pod "{pod_name}" is terminated')
        return str(last["containerID"])
    waiting = state.get("waiting")
    if waiting is not None:
        reason = waiting.get("reason", "")
        why = {"ErrImagePull": "image can't be pulled",
               "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
        raise LogRequestError(400, f'container "{container}" in pod "{pod_name}" is waiting to start: {why}')
    raise LogRequestError(400, f'container "{container}" in pod "{pod_name}" is waiting to start - no logs yet')


def log_file(status: pb.ContainerStatus, log_directory: str) -> str:
    path = status.log_path
    return path if os.path.isabs(path) else os.path.join(log_directory, path)


async def _first(lines: AsyncIterator[bytes]) -> bytes:
    """Open the file (a missing one is the caller's 400) and take the first chunk, if any."""
    try:
        return await anext(lines)
    except StopAsyncIteration:
        return b""
    except FileNotFoundError as exc:
        raise LogRequestError(400, f'failed to try resolving symlinks in path "{exc.filename}": '
                                   f"lstat {exc.filename}: no such file or directory") from exc


class ContainerLogs:
    def __init__(self, runtime: Runtime, find_pod: PodLookup) -> None:
        self.runtime, self.find_pod = runtime, find_pod

    async def handle(self, request: web.Request) -> web.StreamResponse:
        namespace, pod_name = request.match_info["namespace"], request.match_info["pod"]
        container = request.match_info["container"]
        try:
            options, previous = options_from_query(dict(request.query))

            async def running() -> bool:
                try:
                    return (await self.runtime.container_status(cid)).state == pb.CONTAINER_RUNNING
                except CRIError:
                    return False

            pod = self.find_pod(namespace, pod_name)
            if pod is None:
                raise LogRequestError(404, f'pod "{pod_name}" does not exist')
            if not _in_spec(pod, container):
                raise LogRequestError(404, f'container "{container}" not found in pod "{pod_name}"')
            cid = container_id(pod, container, previous).split("://", 1)[-1]
            try:
                status = await self.runtime.container_status(cid)
            except CRIError as exc:
                raise LogRequestError(400, f'failed to get container status "{cid}": {exc.details}') from exc
            path = log_file(status, podconfig.log_directory(pod))
            lines = logs.read_logs(path, options, running)
            first = await _first(lines)
        except LogRequestError as exc:
            return web.Response(status=exc.status, text=str(exc), content_type="text/plain")

        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            if first:
                await response.write(first)
            async for chunk in lines:
                await response.write(chunk)  # each write is flushed: `logs -f` sees lines as they come
        except (ConnectionResetError, OSError) as exc:
            log.debug("log stream of %s/%s/%s ended: %s", namespace, pod_name, container, exc)
            return response
        await response.write_eof()
        return response
