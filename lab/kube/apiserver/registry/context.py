"""What strategies may reach while admitting an object: storage, key layout and the Service
allocators. Built once by `lab.kube.apiserver.context.build_context` and shared by every registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network

from lab.kube.apiserver.admission import AdmissionChain
from lab.kube.apiserver.ipalloc import KeyAllocator
from lab.kube.apiserver.storage import Storage
from lab.kube.machinery.catalog import Resource


@dataclass(frozen=True)
class RegistryContext:
    storage: Storage
    """Where every object of every resource lives (etcd, or memory for tests)."""
    prefix: str = "/registry"
    """Key prefix of every object (--etcd-prefix)."""
    service_cidr: IPv4Network | IPv6Network | None = None
    """--service-cluster-ip-range, named in the message when a requested cluster IP is outside it."""
    service_ips: KeyAllocator | None = None
    """Hands out Service cluster IPs; None: Services are stored without one (registry tests)."""
    node_ports: KeyAllocator | None = None
    """Hands out NodePort/LoadBalancer node ports; None: ports are stored as given."""
    admission: AdmissionChain = field(default_factory=AdmissionChain)
    """The admission plugins every write by a request passes (`--enable-admission-plugins`)."""

    def key(self, resource: Resource, namespace: str, name: str) -> str:
        base = f"{self.prefix}/{resource.storage_prefix}"
        return f"{base}/{namespace}/{name}" if resource.namespaced else f"{base}/{name}"

    def collection_prefix(self, resource: Resource, namespace: str | None) -> str:
        base = f"{self.prefix}/{resource.storage_prefix}/"
        return f"{base}{namespace}/" if resource.namespaced and namespace else base
