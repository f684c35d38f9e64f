"""Services: type/port defaults, cluster IP and node port allocation (crash-safe, released on
delete), validation, and the TYPE/CLUSTER-IP/EXTERNAL-IP/PORT(S) table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver import ipalloc
from lab.kube.apiserver.printers import age, joined
from lab.kube.apiserver.registry.context import RegistryContext
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import Cause, InternalError
from lab.kube.machinery.objects import Obj, spec_of, status_of

TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _raise_alloc(obj: Obj, field: str, value: Any, detail: str) -> None:
    v.raise_invalid(catalog.SERVICES, meta.name(obj), [v.invalid(field, value, detail)])


@dataclass
class ServiceStrategy(Strategy):
    label_name: bool = True
    return_deleted_object: bool = True
    allow_create_on_update: bool = True  # upstream svcStrategy: PUT of a missing one creates it

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "targetPort" not in p and "port" in p:
                    p["targetPort"] = p["port"]

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return [*causes, v.required("spec")]
        stype = spec.get("type")
        if spec.get("selector") is not None:
            causes += v.labels_causes(spec["selector"], "spec.selector")
        if stype not in TYPES:
            causes.append(v.not_supported("spec.type", stype, TYPES))
        ports = spec.get("ports") or []
        if not ports and stype != "ExternalName" and spec.get("clusterIP") != "None":
            causes.append(v.required("spec.ports"))
        names: set[str | None] = set()
        for i, p in enumerate(ports):
            if not isinstance(p, dict):
                causes.append(v.invalid(f"spec.ports[{i}]", p, "must be an object"))
                continue
            if len(ports) > 1 and not p.get("name"):
                causes.append(v.required(f"spec.ports[{i}].name"))
            if p.get("name") in names:
                causes.append(v.duplicate(f"spec.ports[{i}].name", p.get("name")))
            names.add(p.get("name"))
            port = p.get("port")
            if not isinstance(port, int) or not 1 <= port <= 65535:
                causes.append(v.invalid(f"spec.ports[{i}].port", port,
                                        "must be between 1 and 65535, inclusive"))
            if p.get("protocol") not in PROTOCOLS:
                causes.append(v.not_supported(f"spec.ports[{i}].protocol", p.get("protocol"), PROTOCOLS))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        old_ip, new_ip = spec_of(old).get("clusterIP"), spec_of(new).get("clusterIP")
        if old_ip and new_ip != old_ip and spec_of(old).get("type") != "ExternalName":
            causes.append(v.immutable("spec.clusterIPs[0]", new_ip))
        return causes

    async def before_create(self, obj: Obj, ctx: RegistryContext) -> None:
        """Allocate the cluster IP, then node ports; a failure part-way gives back what this
        call took (and only that: a refused requested IP belongs to someone else)."""
        taken: list[tuple[ipalloc.KeyAllocator, str]] = []
        try:
            await self._allocate(obj, ctx, taken)
        except BaseException:
            for alloc, value in taken:
                await alloc.release(value)
            raise

    async def _allocate(self, obj: Obj, ctx: RegistryContext,
                        taken: list[tuple[ipalloc.KeyAllocator, str]]) -> None:
        spec = obj["spec"]
        ips, ports = ctx.service_ips, ctx.node_ports
        owner = meta.key(obj)
        if spec.get("type") == "ExternalName":
            return
        wanted = spec.get("clusterIP") or ((spec.get("clusterIPs") or [None])[0])
        if wanted == "None":
            spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
        elif ips is not None:
            try:
                ip = await ips.allocate(owner, wanted or None)
            except ipalloc.AlreadyAllocated:
                _raise_alloc(obj, "spec.clusterIPs", [wanted],
                             f"failed to allocate IP {wanted}: provided IP is already allocated")
            except ipalloc.OutOfRange:
                _raise_alloc(obj, "spec.clusterIPs", [wanted],
                             f"failed to allocate IP {wanted}: the provided IP ({wanted}) is not in "
                             "the valid range. The range of valid IPs is " + str(ctx.service_cidr))
            except ipalloc.RangeFull as exc:
                raise InternalError("failed to allocate a serviceIP: range is full") from exc
            taken.append((ips, ip))
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        spec.setdefault("ipFamilies", ["IPv6" if ":" in spec.get("clusterIP", "") else "IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec.get("type") in ("NodePort", "LoadBalancer") and ports is not None:
            await self._allocate_node_ports(obj, ports, taken=taken)

    async def _allocate_node_ports(self, obj: Obj, ports: ipalloc.KeyAllocator,
                                   keep: dict[str, Any] | None = None, *,
                                   taken: list[tuple[ipalloc.KeyAllocator, str]] | None = None) -> None:
        for i, p in enumerate(obj["spec"].get("ports") or []):
            wanted = p.get("nodePort") or (keep or {}).get(str(p.get("port")))
            if keep and wanted and str(p.get("port")) in keep and wanted == keep[str(p.get("port"))]:
                p["nodePort"] = wanted
                continue
            try:
                p["nodePort"] = int(await ports.allocate(meta.key(obj), str(wanted) if wanted else None))
                if taken is not None:
                    taken.append((ports, str(p["nodePort"])))
            except ipalloc.AlreadyAllocated:
                _raise_alloc(obj, f"spec.ports[{i}].nodePort", wanted, "provided port is already allocated")
            except ipalloc.OutOfRange:
                _raise_alloc(obj, f"spec.ports[{i}].nodePort", wanted,
                             f"provided port is not in the valid range. The range of valid ports is "
                             f"{ports.first}-{ports.last}")

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        # an update that leaves the allocated IP out keeps it (kubectl replace, PUT)
        spec, old_spec = new.setdefault("spec", {}), spec_of(old)
        if isinstance(spec, dict):
            for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if not spec.get(k) and old_spec.get(k):
                    spec[k] = old_spec[k]

    async def before_update(self, new: Obj, old: Obj, ctx: RegistryContext) -> None:
        spec, old_spec = new.setdefault("spec", {}), spec_of(old)
        ports = ctx.node_ports
        if spec.get("type") in ("NodePort", "LoadBalancer") and ports is not None:
            keep = {str(p.get("port")): p.get("nodePort") for p in old_spec.get("ports") or []
                    if p.get("nodePort")}
            taken: list[tuple[ipalloc.KeyAllocator, str]] = []
            try:
                await self._allocate_node_ports(new, ports, keep, taken=taken)
            except BaseException:
                for alloc, value in taken:
                    await alloc.release(value)
                raise

    async def after_delete(self, obj: Obj, ctx: RegistryContext) -> None:
        await self.release_unused({}, obj, ctx)

    async def release_unused(self, kept: Obj, dropped: Obj, ctx: RegistryContext) -> None:
        ips, ports = ctx.service_ips, ctx.node_ports
        if ips is not None:
            for ip in _cluster_ips(dropped) - _cluster_ips(kept):
                await ips.release(ip)
        if ports is not None:
            for port in _node_ports(dropped) - _node_ports(kept):
                await ports.release(port)

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Type", description="type determines how the Service is exposed."),
                column("Cluster-IP", description="clusterIP is the IP address of the service."),
                column("External-IP", description="externalIPs is a list of IP addresses for which nodes in the "
                       "cluster will also accept traffic for this service."),
                column("Port(s)", description="The list of ports that are exposed by this service."),
                AGE_COLUMN,
                column("Selector", priority=1, description="Route service traffic to pods with label keys and values "
                       "matching this selector.")]

    def row(self, obj: Obj) -> list[Any]:
        spec = spec_of(obj)
        stype = spec.get("type", "ClusterIP")
        ports = ",".join(
            (f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}" if p.get("nodePort")
             else f"{p.get('port')}/{p.get('protocol', 'TCP')}") for p in spec.get("ports") or [])
        selector = ",".join(f"{k}={val}" for k, val in sorted((spec.get("selector") or {}).items()))
        return [meta.name(obj), stype, spec.get("clusterIP") or "<none>", external_ip(obj),
                ports or "<none>", age(obj), selector or "<none>"]


def _cluster_ips(obj: Obj) -> set[str]:
    spec = spec_of(obj)
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return {ip for ip in ips if ip and ip != "None"}


def _node_ports(obj: Obj) -> set[str]:
    return {str(p["nodePort"]) for p in spec_of(obj).get("ports") or []
            if isinstance(p, dict) and p.get("nodePort")}


def external_ip(obj: Obj) -> str:
    spec, status = spec_of(obj), status_of(obj)
    stype, ext = spec.get("type", "ClusterIP"), list(spec.get("externalIPs") or [])
    if stype == "ExternalName":
        return spec.get("externalName") or "<none>"
    if stype == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in
                   (status.get("loadBalancer") or {}).get("ingress") or []]
        return joined(ingress + ext) if ingress or ext else "<pending>"
    return joined(ext)


STRATEGY = ServiceStrategy(catalog.SERVICES)
