"""How the API server reaches a node's kubelet: which address, which port, which TLS.

Upstream's `--kubelet-*` flags: the node's first address of a preferred type, the port from
`status.daemonEndpoints.kubeletEndpoint.Port` (10250 when unset), the API server's own kubelet
client certificate, and the kubelets' serving certificates verified against
`--kubelet-certificate-authority` (unverified when that is empty, as upstream).

    location = await ctx.kubelets.locate("w1")          # raises errors.NotFound / errors.ServiceUnavailable
    async with aiohttp.ClientSession() as s:
        await s.get(location.url("/containerLogs/default/web/web"), ssl=ctx.kubelets.ssl)
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import errors
from lab.kube.machinery.objects import Obj, status_of

DEFAULT_KUBELET_PORT = 10250
NodeGetter = Callable[[str], Awaitable[Obj]]


@dataclass(frozen=True)
class KubeletLocation:
    node: str
    host: str
    port: int

    def url(self, path: str, query: str = "") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{path}" + (f"?{query}" if query else "")


def node_address(node: Obj, preferred: tuple[str, ...]) -> str:
    addresses = status_of(node).get("addresses") or []
    for kind in preferred:
        for a in addresses:
            if a.get("type") == kind and a.get("address"):
                return str(a["address"])
    return ""


def kubelet_port(node: Obj) -> int:
    endpoint = (status_of(node).get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
    port = endpoint.get("Port")
    return int(port) if isinstance(port, int) and 0 < port < 65536 else DEFAULT_KUBELET_PORT


def client_ssl_context(settings: Settings) -> ssl.SSLContext:
    """TLS to kubelets: our client certificate, their serving certificate checked when a CA is set."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.kubelet_certificate_authority:
        context.load_verify_locations(settings.kubelet_certificate_authority)
        context.check_hostname = True
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if settings.kubelet_client_certificate:
        context.load_cert_chain(settings.kubelet_client_certificate, settings.kubelet_client_key or None)
    return context


class KubeletClient:
    def __init__(self, settings: Settings, get_node: NodeGetter) -> None:
        self.preferred = settings.kubelet_preferred_address_types
        self.timeout = settings.kubelet_timeout
        self.get_node = get_node
        self._settings = settings
        self._ssl: ssl.SSLContext | None = None

    @property
    def ssl(self) -> ssl.SSLContext:
        """Built on first use, so a server that never proxies needs no kubelet credentials."""
        if self._ssl is None:
            self._ssl = client_ssl_context(self._settings)
        return self._ssl

    async def locate(self, node_name: str) -> KubeletLocation:
        if not node_name:
            raise errors.BadRequest("pod is not yet scheduled to a node")
        node = await self.get_node(node_name)  # errors.NotFound passes through as upstream's 404
        host = node_address(node, self.preferred)
        if not host:
            raise errors.ServiceUnavailable(
                f"no preferred addresses found; known addresses: {status_of(node).get('addresses') or []}")
        return KubeletLocation(node_name, host, kubelet_port(node))
