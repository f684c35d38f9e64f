"""networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy (upstream
`pkg/apis/networking/validation`): the checks users hit when copying manifests (path types and
absolute paths, one backend kind, port name or number, policy types, protocols, CIDRs), and the
`kubectl get` tables. kubelab runs no ingress controller or network policy enforcement yet."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age, joined, label_selector_text
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj, spec_of, status_of

PATH_TYPES = ["Exact", "Prefix", "ImplementationSpecific"]
POLICY_TYPES = ["Ingress", "Egress"]
PROTOCOLS = ["TCP", "UDP", "SCTP"]


def _backend_causes(backend: Any, path: str) -> list[Cause]:
    if not isinstance(backend, dict):
        return [v.required(path)]
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [v.invalid(path, "", "cannot set both resource and service backends")]
    if service is None and resource is None:
        return [v.invalid(path, "", "resource or service backend is required")]
    if service is None:
        return []
    port = service.get("port") or {}
    if port.get("name") and port.get("number") is not None:
        return [v.invalid(f"{path}.service.port", port, "cannot set both port name & port number")]
    if not port.get("name") and port.get("number") is None:
        return [v.required(f"{path}.service.port", "port name or number is required")]
    number = port.get("number")
    if number is not None and not (isinstance(number, int) and 1 <= number <= 65535):
        return [v.invalid(f"{path}.service.port.number", number, "must be between 1 and 65535, inclusive")]
    return []


def validate_ingress_spec(spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required("spec")]
    causes: list[Cause] = []
    rules = spec.get("rules") or []
    if not rules and spec.get("defaultBackend") is None:
        causes.append(v.invalid("spec", "", "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        causes += _backend_causes(spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(rules):
        host = rule.get("host") or ""
        if host and "*" in host.lstrip("*."):
            causes.append(v.invalid(f"spec.rules[{i}].host", host, "a wildcard DNS-1123 subdomain must start "
                                    "with '*.', followed by a valid DNS subdomain"))
        for j, entry in enumerate(((rule.get("http") or {}).get("paths")) or []):
            at = f"spec.rules[{i}].http.paths[{j}]"
            kind = entry.get("pathType")
            if kind is None:
                causes.append(v.required(f"{at}.pathType", "pathType must be specified"))
            elif kind not in PATH_TYPES:
                causes.append(v.not_supported(f"{at}.pathType", kind, PATH_TYPES))
            elif kind in ("Exact", "Prefix") and not str(entry.get("path") or "").startswith("/"):
                causes.append(v.invalid(f"{at}.path", entry.get("path", ""), "must be an absolute path"))
            causes += _backend_causes(entry.get("backend"), f"{at}.backend")
    return causes


def _ports_text(ingress: Obj) -> str:
    return "80, 443" if spec_of(ingress).get("tls") else "80"


@dataclass
class IngressStrategy(Strategy):
    tracks_generation: bool = True

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_ingress_spec(obj.get("spec"))

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Class", description="The name of the IngressClass cluster resource."),
                column("Hosts", description="Hosts that incoming requests are matched against before the "
                       "ingress rule"),
                column("Address", description="Address is a list containing ingress points for the load-balancer"),
                column("Ports", description="Ports of TLS configurations that open"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        spec = spec_of(obj)
        hosts = [r.get("host") or "*" for r in spec.get("rules") or []]
        points = ((status_of(obj).get("loadBalancer") or {}).get("ingress")) or []
        address = ",".join(p.get("ip") or p.get("hostname") or "" for p in points)
        return [meta.name(obj), spec.get("ingressClassName") or "<none>", ",".join(hosts) or "*", address,
                _ports_text(obj), age(obj)]


@dataclass
class IngressClassStrategy(Strategy):
    tracks_generation: bool = True

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if spec_of(new).get("controller") != spec_of(old).get("controller"):
            causes.append(v.immutable("spec.controller", spec_of(new).get("controller")))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Controller", description="Controller that is responsible for handling this "
                                    "class"),
                column("Parameters", description="A reference to a resource with additional parameters"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        spec = spec_of(obj)
        params = spec.get("parameters")
        text = "<none>"
        if params:
            text = params.get("kind", "") + (f".{params['apiGroup']}" if params.get("apiGroup") else "") + \
                f"/{params.get('name', '')}"
        return [meta.name(obj), spec.get("controller", ""), text, age(obj)]


def _peer_causes(peer: Obj, path: str) -> list[Cause]:
    block = peer.get("ipBlock")
    if block is None:
        return []
    if peer.get("podSelector") is not None or peer.get("namespaceSelector") is not None:
        return [v.forbidden(path, "may not specify both ipBlock and another peer")]
    try:
        net = ipaddress.ip_network(str(block.get("cidr", "")), strict=False)
    except ValueError:
        return [v.invalid(f"{path}.ipBlock.cidr", block.get("cidr", ""), "must be a valid CIDR value, (e.g. "
                          "10.9.8.0/24 or 2001:db8::/64)")]
    causes = []
    for k, ex in enumerate(block.get("except") or []):
        try:
            inner = ipaddress.ip_network(str(ex), strict=False)
        except ValueError:
            causes.append(v.invalid(f"{path}.ipBlock.except[{k}]", ex, "must be a valid CIDR value"))
            continue
        if inner.version != net.version or not inner.subnet_of(net):  # type: ignore[arg-type]
            causes.append(v.invalid(f"{path}.ipBlock.except[{k}]", ex, "must be a strict subset of `cidr`"))
    return causes


def validate_network_policy_spec(spec: Any) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required("spec")]
    causes: list[Cause] = []
    for i, kind in enumerate(spec.get("policyTypes") or []):
        if kind not in POLICY_TYPES:
            causes.append(v.not_supported(f"spec.policyTypes[{i}]", kind, POLICY_TYPES))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, port in enumerate(rule.get("ports") or []):
                protocol = port.get("protocol")
                if protocol is not None and protocol not in PROTOCOLS:
                    causes.append(v.not_supported(f"spec.{direction}[{i}].ports[{j}].protocol", protocol, PROTOCOLS))
            for j, peer in enumerate(rule.get(peers_key) or []):
                causes += _peer_causes(peer, f"spec.{direction}[{i}].{peers_key}[{j}]")
    return causes


@dataclass
class NetworkPolicyStrategy(Strategy):
    tracks_generation: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("podSelector", {})
        if "policyTypes" not in spec:  # upstream: Ingress always, Egress when egress rules exist
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in rule.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_network_policy_spec(obj.get("spec"))

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Pod-Selector", description="Selects the pods to which this NetworkPolicy "
                                    "object applies."), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        selector = spec_of(obj).get("podSelector") or {}
        text = label_selector_text(selector) if selector else "<none>"
        return [meta.name(obj), joined([text]) if text else "<none>", age(obj)]


INGRESSES = IngressStrategy(catalog.INGRESSES)
INGRESS_CLASSES = IngressClassStrategy(catalog.INGRESS_CLASSES)
NETWORK_POLICIES = NetworkPolicyStrategy(catalog.NETWORK_POLICIES)
