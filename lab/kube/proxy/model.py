"""From Service and EndpointSlice dicts to the flat records the rule builder programs.

One `ServicePort` per (service, port) with the endpoints it balances over. Slices join their
service by the `kubernetes.io/service-name` label and each port by name and protocol, as the
upstream EndpointSliceCache does (pkg/proxy/endpointslicecache.go).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.proxy.chains import service_port_name

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_STICKY_SECONDS = 10800  # spec.sessionAffinityConfig.clientIP.timeoutSeconds default


@dataclass(frozen=True, order=True)
class Endpoint:
    """One backend address of a service port; `ready` decides if it gets new connections."""

    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str = ""

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    """What kube-proxy programs for one port of one Service."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # TCP | UDP | SCTP
    cluster_ip: str
    port: int
    node_port: int = 0
    sticky_seconds: int = 0  # >0 when sessionAffinity is ClientIP
    internal_local: bool = False  # internalTrafficPolicy: Local
    endpoints: tuple[Endpoint, ...] = field(default=())

    @property
    def port_name_string(self) -> str:
        return service_port_name(self.namespace, self.name, self.port_name)


def _condition(conditions: Obj, name: str, default: bool) -> bool:
    value = conditions.get(name)
    return default if value is None else bool(value)


def _slice_endpoints(slices: Iterable[Obj], port_name: str, protocol: str) -> list[Endpoint]:
    """Every IPv4 endpoint of the slices for one named port, deduplicated by address."""
    found: dict[str, Endpoint] = {}
    for eps in slices:
        if eps.get("addressType", "IPv4") != "IPv4":
            continue
        ports = [p for p in eps.get("ports") or []
                 if (p.get("name") or "") == port_name and (p.get("protocol") or "TCP") == protocol
                 and p.get("port")]
        for p in ports:
            for ep in eps.get("endpoints") or []:
                cond = ep.get("conditions") or {}
                ready = _condition(cond, "ready", True)  # upstream: nil means ready
                for ip in (ep.get("addresses") or [])[:1]:  # upstream uses the first address only
                    e = Endpoint(ip=ip, port=int(p["port"]), ready=ready,
                                 serving=_condition(cond, "serving", ready),
                                 terminating=_condition(cond, "terminating", False),
                                 node_name=ep.get("nodeName") or "")
                    # a ready copy of an address wins over a not-ready one (slices in transition)
                    if e.address not in found or (e.ready and not found[e.address].ready):
                        found[e.address] = e
    return [found[a] for a in sorted(found)]


def usable_endpoints(sp: ServicePort, node_name: str) -> list[Endpoint]:
    """Ready endpoints; if none, serving+terminating ones (upstream ProxyTerminatingEndpoints)."""
    candidates = [e for e in sp.endpoints if not sp.internal_local or e.node_name == node_name]
    ready = [e for e in candidates if e.ready]
    return ready or [e for e in candidates if e.serving and e.terminating]


def _proxied(svc: Obj) -> bool:
    spec = spec_of(svc)
    ip = spec.get("clusterIP") or ""
    return spec.get("type") != "ExternalName" and ip not in ("", "None") and ":" not in ip


def service_ports(services: Iterable[Obj], slices: Iterable[Obj]) -> list[ServicePort]:
    """All proxied service ports, sorted by `ns/name:port` so the rules come out deterministic."""
    by_service: dict[tuple[str, str], list[Obj]] = defaultdict(list)
    for eps in slices:
        md = meta.metadata(eps)
        owner = (md.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if owner:
            by_service[(md.get("namespace") or "default", owner)].append(eps)
    out: list[ServicePort] = []
    for svc in services:
        if not _proxied(svc):
            continue
        md, spec = meta.metadata(svc), spec_of(svc)
        ns, name = md.get("namespace") or "default", md.get("name") or ""
        sticky = 0
        if spec.get("sessionAffinity") == "ClientIP":
            cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
            sticky = int(cfg.get("timeoutSeconds") or DEFAULT_STICKY_SECONDS)
        nodeport_type = spec.get("type") in ("NodePort", "LoadBalancer")
        for port in spec.get("ports") or []:
            protocol = port.get("protocol") or "TCP"
            if protocol not in PROTOCOLS or not port.get("port"):
                continue
            port_name = port.get("name") or ""
            out.append(ServicePort(
                namespace=ns, name=name, port_name=port_name, protocol=protocol,
                cluster_ip=spec["clusterIP"], port=int(port["port"]),
                node_port=int(port.get("nodePort") or 0) if nodeport_type else 0,
                sticky_seconds=sticky, internal_local=spec.get("internalTrafficPolicy") == "Local",
                endpoints=tuple(_slice_endpoints(by_service[(ns, name)], port_name, protocol))))
    out.sort(key=lambda sp: (sp.port_name_string, sp.protocol))
    return out
