"""`/exec`, `/attach` and `/portForward` on the kubelet API (upstream server.go getExec/getAttach/
getPortForward with streaming proxied, not redirected).

The query is what the API server sends: `command` (repeated), `input`, `output`, `error`, `tty`
as "1" (upstream's ExecStdinParam... names). The kubelet finds the running container (or the
pod's ready sandbox) in the runtime, asks CRI for a streaming URL and proxies the client's
upgrade to it: the runtime's streaming server speaks SPDY and WebSocket with the client itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from lab.kube.component.upgrade_proxy import Backend, UpgradeProxyError, proxy_upgrade
from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.runtime_state import read_pod
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
PodLookup = Callable[[str, str], Obj | None]
TRUE = ("1", "true", "True", "TRUE", "t", "T")


class StreamRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _flag(request: web.Request, *names: str) -> bool:
    return any(request.query.get(n, "") in TRUE for n in names)


def stream_options(request: web.Request) -> tuple[bool, bool, bool, bool]:
    """(stdin, stdout, stderr, tty); upstream NewOptions: at least one stream, no stderr with a tty."""
    stdin, stdout = _flag(request, "input", "stdin"), _flag(request, "output", "stdout")
    stderr, tty = _flag(request, "error", "stderr"), _flag(request, "tty")
    if tty and stderr:
        stderr = False  # a terminal merges stderr into stdout, as upstream does
    if not (stdin or stdout or stderr):
        raise StreamRequestError(400, "you must specify at least 1 of stdin, stdout, stderr")
    return stdin, stdout, stderr, tty


def backend_for(url: str) -> Backend:
    """The runtime's streaming URL (plain HTTP on loopback for containerd) as a proxy backend."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StreamRequestError(500, f"the container runtime returned an unusable streaming URL {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        raise StreamRequestError(500, "TLS streaming from the container runtime is not supported")
    return Backend(parts.hostname, port, target or "/")


class Streaming:
    def __init__(self, runtime: Runtime, find_pod: PodLookup) -> None:
        self.runtime, self.find_pod = runtime, find_pod

    def _pod(self, request: web.Request) -> Obj:
        pod = self.find_pod(request.match_info["namespace"], request.match_info["pod"])
        if pod is None:
            raise StreamRequestError(404, "pod does not exist")
        return pod

    async def _running_container(self, pod: Obj, name: str) -> str:
        rt = await read_pod(self.runtime, meta.uid(pod))
        latest = rt.latest(name)
        if latest is None or not latest.running:
            raise StreamRequestError(404, f'container not found ("{name}")')
        return latest.id

    async def exec(self, request: web.Request) -> web.StreamResponse:
        async def url() -> str:
            stdin, stdout, stderr, tty = stream_options(request)
            command = request.query.getall("command", [])
            if not command:
                raise StreamRequestError(400, "you must specify at least one command for the container")
            cid = await self._running_container(self._pod(request), request.match_info["container"])
            return await self.runtime.exec(pb.ExecRequest(container_id=cid, cmd=command, tty=tty, stdin=stdin,
                                                          stdout=stdout, stderr=stderr))
        return await self._proxy(request, url)

    async def attach(self, request: web.Request) -> web.StreamResponse:
        async def url() -> str:
            stdin, stdout, stderr, tty = stream_options(request)
            cid = await self._running_container(self._pod(request), request.match_info["container"])
            return await self.runtime.attach(pb.AttachRequest(container_id=cid, stdin=stdin, tty=tty,
                                                              stdout=stdout, stderr=stderr))
        return await self._proxy(request, url)

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        async def url() -> str:
            pod = self._pod(request)
            sandboxes = await self.runtime.list_pod_sandbox({lbl.POD_UID: meta.uid(pod)})
            ready = [s for s in sandboxes if s.state == pb.SANDBOX_READY]
            if not ready:
                raise StreamRequestError(404, f'pod "{meta.name(pod)}" has no running sandbox')
            ports = [int(p) for p in request.query.getall("port", []) if p.isdigit()]
            return await self.runtime.port_forward(ready[0].id, ports)
        return await self._proxy(request, url)

    async def _proxy(self, request: web.Request, url: Callable[[], Awaitable[str]]) -> web.StreamResponse:
        try:
            return await proxy_upgrade(request, backend_for(await url()))
        except StreamRequestError as exc:
            return web.Response(status=exc.status, text=str(exc), content_type="text/plain")
        except CRIError as exc:
            log.info("streaming request %s failed in the runtime: %s", request.path, exc)
            return web.Response(status=500, text=exc.details, content_type="text/plain")
        except UpgradeProxyError as exc:
            log.warning("streaming proxy to the runtime failed: %s", exc)
            return web.Response(status=502, text=f"error dialing the container runtime: {exc}",
                                content_type="text/plain")
