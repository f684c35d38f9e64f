"""Who may call the kubelet API and what each path asks for (upstream `pkg/kubelet/server/auth.go`
and the auth filter of `server.go`).

Every path on 10250 is authenticated and authorized, `/healthz` included (the unauthenticated
health check is 10248 on loopback). A request is `<verb>` on `nodes/<subresource>` named after
this node; with `KubeletFineGrainedAuthz` (on by default since 1.33) `/pods`, `/runningpods/`,
`/healthz` and `/configz` ask for their own subresource first and then for `proxy`, so a
`nodes/proxy` grant keeps working. Refusals are plain text, as go-restful writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from lab.kube.component import (
    AccessAttributes,
    AccessAuthorizer,
    AuthorizationError,
    DelegatedAuthenticator,
    Unauthenticated,
)
from lab.kube.component.client_certs import peer_certificate
from lab.kube.machinery.user import UserInfo

log = logging.getLogger(__name__)

# upstream's http method -> API verb switch: anything else (HEAD, OPTIONS) is the empty verb
_VERBS = {"POST": "create", "GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# path -> subresource, in upstream's order (the first match wins)
_COARSE = (("/stats/", "stats"), ("/metrics", "metrics"), ("/logs/", "log"), ("/checkpoint/", "checkpoint"))
_FINE = (("/pods", "pods"), ("/runningpods/", "pods"), ("/healthz", "healthz"), ("/configz", "configz"))


def is_subpath(subpath: str, path: str) -> bool:
    """Upstream `isSubpath`: `path` itself or below it by whole segments (`/statsfoo` is not `/stats`)."""
    path = path.removesuffix("/")
    return subpath == path or (subpath.startswith(path) and subpath[len(path):len(path) + 1] == "/")


def subresources(path: str, fine_grained: bool = True) -> list[str]:
    """The `nodes/<subresource>`s a request to `path` may be allowed by, in the order asked."""
    for prefix, sub in _COARSE:
        if is_subpath(path, prefix):
            return [sub]
    for prefix, sub in _FINE:
        if is_subpath(path, prefix):
            return [sub, "proxy"] if fine_grained else ["proxy"]
    return ["proxy"]


def request_attributes(user: UserInfo, method: str, path: str, node_name: str,
                       fine_grained: bool = True) -> list[AccessAttributes]:
    """Upstream `GetRequestAttributes`: one attributes record per subresource to try."""
    verb = _VERBS.get(method.upper(), "")
    return [AccessAttributes(user, verb, True, path=path, api_version="v1", resource="nodes", subresource=sub,
                             name=node_name) for sub in subresources(path, fine_grained)]


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain")


def forbidden_message(attrs: Sequence[AccessAttributes], fine_grained: bool) -> str:
    first = attrs[0]
    who = f"user={first.user.name}, verb={first.verb}, resource={first.resource}"
    if not fine_grained:  # 1.27-1.31 wording (one attribute)
        return f"Forbidden ({who}, subresource={first.subresource})"
    return f"Forbidden ({who}, subresource(s)=[{' '.join(a.subresource for a in attrs)}])\n"


def auth_filter(authn: DelegatedAuthenticator, authz: AccessAuthorizer, node_name: str,
                fine_grained: bool = True) -> Middleware:
    """The kubelet's auth filter as an aiohttp middleware (upstream `InstallAuthFilter`)."""
    @web.middleware
    async def kubelet_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        peer = peer_certificate(transport.get_extra_info("ssl_object") if transport else None)
        try:
            user = await authn.authenticate(request.headers, peer)
        except Unauthenticated as exc:
            log.info("Unable to authenticate the request from %s: %s", request.remote, exc)
            return _text(401, "Unauthorized")
        attrs = request_attributes(user, request.method, request.path, node_name, fine_grained)
        for attr in attrs:
            try:
                decision = await authz.authorize(attr)
            except AuthorizationError as exc:
                log.error("Authorization error user=%s verb=%s subresource=%s: %s", user.name, attr.verb,
                          attr.subresource, exc)
                return _text(500, f"Authorization error (user={user.name}, verb={attr.verb}, "
                                  f"resource={attr.resource}, subresource={attr.subresource})")
            if decision.allowed:
                return await handler(request)
        message = forbidden_message(attrs, fine_grained)
        log.debug("%s", message.strip())
        return _text(403, message)
    return kubelet_auth
