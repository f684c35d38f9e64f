"""`pods/exec`, `pods/attach` and `pods/portforward`: the connect subresources (upstream
pkg/registry/core/pod/rest/subresources.go and strategy.go ExecLocation/AttachLocation/
PortForwardLocation).

The PodExecOptions/PodAttachOptions/PodPortForwardOptions query is checked here and rewritten
into the kubelet's (`command`, `input`, `output`, `error`, `tty`; `port`), then the upgrade is
proxied to the pod's kubelet over TLS with the API server's kubelet client certificate. The
protocol (SPDY or WebSocket) is the client's and the container runtime's business; the kubelet's
refusal, if any, reaches the client as it is.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.rest.podlogs import pick_container
from lab.kube.component.upgrade_proxy import Backend, UpgradeProxyError, proxy_upgrade
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj, spec_of, status_of

CONNECT_SUBRESOURCES = ("exec", "attach", "portforward")
TRUE = ("1", "true", "True", "TRUE", "t", "T")  # Go's strconv.ParseBool


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "") in TRUE


def is_upgrade(request: web.Request) -> bool:
    connection = [t.strip().lower() for t in request.headers.get("Connection", "").split(",")]
    return "upgrade" in connection and bool(request.headers.get("Upgrade"))


def kubelet_target(request: web.Request, pod: Obj, namespace: str, name: str, subresource: str) -> str:
    """The kubelet path and query for this connect request."""
    if subresource == "portforward":
        ports = [p for value in request.query.getall("ports", []) for p in value.split(",") if p]
        for p in ports:
            if not p.isdigit() or not 0 < int(p) < 65536:
                raise errors.BadRequest(f"invalid port {p!r}: port must be > 0 and < 65536")
        query = urlencode([("port", p) for p in ports])
        return f"/portForward/{namespace}/{name}" + (f"?{query}" if query else "")
    phase = status_of(pod).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise errors.BadRequest(f"cannot {subresource} into a container in a completed pod; current phase is {phase}")
    container = pick_container(pod, name, request.query.get("container", ""))
    params: list[tuple[str, str]] = []
    if subresource == "exec":
        params += [("command", c) for c in request.query.getall("command", [])]
    for option, kubelet_name in (("stdin", "input"), ("stdout", "output"), ("stderr", "error"), ("tty", "tty")):
        if _flag(request, option):
            params.append((kubelet_name, "1"))
    return f"/{subresource}/{namespace}/{name}/{container}?{urlencode(params)}"


async def serve(ctx: ServerContext, request: web.Request, namespace: str, name: str,
                subresource: str) -> web.StreamResponse:
    pod = await ctx.registries[catalog.PODS].get(namespace, name)
    target = kubelet_target(request, pod, namespace, name, subresource)
    if not is_upgrade(request):
        raise errors.BadRequest("Upgrade request required")
    node = spec_of(pod).get("nodeName") or ""
    if not node:
        raise errors.BadRequest(f"pod {name} does not have a host assigned")
    location = await ctx.kubelets.locate(node)
    backend = Backend(location.host, location.port, target, tls=ctx.kubelets.ssl,
                      connect_timeout=ctx.kubelets.timeout)
    try:
        return await proxy_upgrade(request, backend)
    except UpgradeProxyError as exc:
        raise errors.InternalError(f"error dialing backend: {exc}") from exc
