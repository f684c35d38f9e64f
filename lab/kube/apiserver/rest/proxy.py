"""`nodes/proxy`, `pods/proxy` and `services/proxy`: HTTP relayed to a kubelet, a pod or a
service endpoint (upstream pkg/registry/core/{node,pod,service} ResourceLocation and
apimachinery's UpgradeAwareHandler).

    /api/v1/nodes/[scheme:]NAME[:PORT]/proxy/PATH
    /api/v1/namespaces/NS/pods/[scheme:]NAME[:PORT]/proxy/PATH
    /api/v1/namespaces/NS/services/[scheme:]NAME[:PORTNAME]/proxy/PATH

Authorization already happened on the path (`get|create|update|patch|delete` on
`<resource>/proxy` with the `NAME[:PORT]` as name, as upstream's RequestInfoFactory). The
method, query, body and end-to-end headers go to the target; its status, headers and body come
back as they arrive. Upgrades (websockets) through these proxies are not relayed.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import socket
import ssl
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from yarl import URL

from lab.kube.apiserver.context import ServerContext
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)

# RFC 7230 6.1 hop-by-hop headers, which upstream's reverse proxy removes both ways
HOP_BY_HOP = frozenset(h.lower() for h in (
    "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te",
    "Trailer", "Transfer-Encoding", "Upgrade"))
# the caller's credentials are for the API server, never for the target (upstream's
# authentication filter deletes Authorization; impersonation headers are consumed)
CREDENTIALS = ("authorization", "impersonate-")
_PROXY_RESOURCES = {"nodes": "node", "pods": "pod", "services": "service"}


class UnreachableTarget(errors.APIError):
    """Upstream's proxy fails with a plain error, which becomes a 500 of reason Unknown."""

    code = 500
    reason = ""


@dataclass(frozen=True)
class ProxyRequest:
    resource: str
    """nodes, pods or services"""
    namespace: str
    id: str
    """the `[scheme:]name[:port]` path segment"""
    path: str
    """what follows `/proxy`, with its leading slash (may be empty)"""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: str
    tls: ssl.SSLContext | None
    """None: plain HTTP; for https, the kubelet client context or an unverified one"""

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme or 'http'}://{host}{':' + self.port if self.port else ''}{path}"


def parse(path: str) -> ProxyRequest | None:
    """The proxy request `path` asks for, or None when it is no proxy path."""
    parts = path.split("/")
    # ['', 'api', 'v1', ...]
    if len(parts) < 6 or parts[1] != "api" or parts[2] != "v1":
        return None
    rest, namespace = parts[3:], ""
    if rest[0] == "namespaces" and len(rest) >= 5 and rest[2] in ("pods", "services"):
        namespace, rest = rest[1], rest[2:]
    elif rest[0] != "nodes":
        return None
    if len(rest) < 3 or rest[2] != "proxy" or not rest[1]:
        return None
    tail = "/".join(rest[3:])
    return ProxyRequest(rest[0], namespace, rest[1], "/" + tail if len(rest) > 3 else "")


def split_scheme_name_port(id_: str) -> tuple[str, str, str] | None:
    """Upstream net.SplitSchemeNamePort: `name`, `name:port` or `scheme:name:port`."""
    parts = id_.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme, name, port


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _global_unicast(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Go's net.IP.IsGlobalUnicast (private ranges included)."""
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified
                or ip == ipaddress.ip_address("255.255.255.255"))


def check_proxyable(host: str) -> None:
    """Upstream proxyutil.IsProxyableHostname: no loopback or link-local targets."""
    ip = _ip(host)
    addresses = [ip] if ip is not None else []
    if ip is None:
        try:
            addresses = [a for info in socket.getaddrinfo(host, None) if (a := _ip(str(info[4][0])))]
        except OSError as exc:
            raise errors.BadRequest(str(exc)) from None
    if not addresses:
        raise errors.BadRequest(f"no addresses for hostname {host}")
    for a in addresses:
        if a.is_loopback or a.is_link_local:
            raise errors.BadRequest("address not allowed")


def _insecure() -> ssl.SSLContext:
    # upstream's proxy transport does not verify pods' and services' serving certificates
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def node_target(ctx: ServerContext, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid node request "{id_}"')
    scheme, name, port = split
    location = await ctx.kubelets.locate(name)
    check_proxyable(location.host)
    if not port or port == str(location.port):  # the kubelet itself, with our client certificate
        return Target("https", location.host, str(location.port), ctx.kubelets.ssl)
    return Target(scheme, location.host, port, _insecure() if scheme == "https" else None)


async def pod_target(ctx: ServerContext, namespace: str, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid pod request "{id_}"')
    scheme, name, port = split
    pod = await ctx.registries[catalog.PODS].get(namespace, name)
    if not port:  # the first declared port of the first container that declares one
        for c in spec_of(pod).get("containers") or []:
            if c.get("ports"):
                port = str(c["ports"][0].get("containerPort", ""))
                break
    ip = _ip(str(status_of(pod).get("podIP") or ""))
    if ip is None or not _global_unicast(ip):
        raise errors.BadRequest("address not allowed")
    return Target(scheme, str(ip), port, _insecure() if scheme == "https" else None)


def _pod_ips(pod: Obj) -> set[str]:
    status = status_of(pod)
    return {str(p.get("ip")) for p in status.get("podIPs") or []} | {str(status.get("podIP") or "")}


async def _valid_address(ctx: ServerContext, namespace: str, address: Obj) -> bool:
    """Upstream isValidAddress: the endpoint names a pod that has this IP."""
    ref = address.get("targetRef") or {}
    if ref.get("kind") != "Pod":
        return False
    try:
        pod = await ctx.registries[catalog.PODS].get(ref.get("namespace") or namespace, str(ref.get("name", "")))
    except errors.NotFound:
        return False
    return str(address.get("ip", "")) in _pod_ips(pod)


async def service_target(ctx: ServerContext, namespace: str, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid service request "{id_}"')
    scheme, name, port_name = split
    if port_name.isdigit():  # a port number stands for the service port's name
        service = await ctx.registries[catalog.SERVICES].get(namespace, name)
        names = [p.get("name", "") for p in spec_of(service).get("ports") or []
                 if str(p.get("port")) == port_name]
        if not names:
            raise errors.ServiceUnavailable(f'no service port {port_name} found for service "{name}"')
        port_name = names[0]
    endpoints = await ctx.registries[catalog.ENDPOINTS].get(namespace, name)
    subsets = list(endpoints.get("subsets") or [])
    if not subsets:
        raise errors.ServiceUnavailable(f'no endpoints available for service "{name}"')
    start = random.randrange(len(subsets))  # spreading load, as upstream's rand.Intn
    for subset in subsets[start:] + subsets[:start]:
        addresses = list(subset.get("addresses") or [])
        if not addresses:
            continue
        for port in subset.get("ports") or []:
            if port.get("name", "") != port_name:
                continue
            first = random.randrange(len(addresses))
            for address in addresses[first:] + addresses[:first]:
                if await _valid_address(ctx, namespace, address):
                    tls = _insecure() if scheme == "https" else None
                    return Target(scheme, str(address["ip"]), str(port.get("port", "")), tls)
                log.info("service %s/%s: address %s is not a valid pod address", namespace, name, address.get("ip"))
    raise errors.ServiceUnavailable(f'no endpoints available for service "{id_}"')


def forwarded_headers(request: web.Request) -> dict[str, str]:
    """End-to-end request headers, less the caller's API credentials, plus X-Forwarded-For."""
    connection_named = {t.strip().lower() for t in request.headers.get("Connection", "").split(",") if t.strip()}
    out: dict[str, str] = {}
    for key, value in request.headers.items():
        lower = key.lower()
        if lower in HOP_BY_HOP or lower in connection_named or lower == "host" \
                or any(lower.startswith(c) for c in CREDENTIALS):
            continue
        out[key] = value
    peer = request.remote or ""
    prior = request.headers.get("X-Forwarded-For", "")
    out["X-Forwarded-For"] = f"{prior}, {peer}" if prior and peer else (prior or peer)
    return out


def _bodiless(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


def _response_headers(answer: aiohttp.ClientResponse, bodiless: bool) -> list[tuple[str, str]]:
    """End-to-end answer headers; a body's length is our chunking's business, except where
    there is no body to chunk (HEAD, 204, 304), where the target's Content-Length stands."""
    named = {t.strip().lower() for t in answer.headers.get("Connection", "").split(",") if t.strip()}
    return [(k, v) for k, v in answer.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in named
            and (bodiless or k.lower() != "content-length")]


async def serve(ctx: ServerContext, request: web.Request, proxy: ProxyRequest) -> web.StreamResponse:
    if proxy.resource == "nodes":
        target = await node_target(ctx, proxy.id)
    elif proxy.resource == "pods":
        target = await pod_target(ctx, proxy.namespace, proxy.id)
    else:
        target = await service_target(ctx, proxy.namespace, proxy.id)
    raw = request.raw_path.partition("?")
    url = target.url((parse(raw[0]) or proxy).path or "/") + (f"?{raw[2]}" if raw[2] else "")
    body = await request.read() if request.can_read_body else None
    timeout = aiohttp.ClientTimeout(total=None, connect=ctx.kubelets.timeout, sock_connect=ctx.kubelets.timeout)
    response = web.StreamResponse()
    try:
        # auto_decompress off: the body goes back encoded as the target sent it
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session, \
                session.request(request.method, URL(url, encoded=True), data=body,
                                headers=forwarded_headers(request), ssl=target.tls or False,
                                allow_redirects=False,
                                # only what the caller sent: no compression it did not ask for
                                skip_auto_headers=("Accept-Encoding", "User-Agent")) as answer:
            bodiless = _bodiless(request.method, answer.status)
            response.set_status(answer.status, answer.reason)
            for key, value in _response_headers(answer, bodiless):
                response.headers.add(key, value)
            if not bodiless:
                response.enable_chunked_encoding()
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
    except (aiohttp.ClientError, OSError) as exc:
        if response.prepared:  # the target broke off midway: end what we relayed
            log.info("proxy to %s ended: %s", url, exc)
            return response
        raise UnreachableTarget(f"error trying to reach service: {exc}") from exc
    await response.write_eof()
    return response
