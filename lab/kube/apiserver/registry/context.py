"""What strategies may reach while admitting an object: storage, key layout, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from lab.kube.apiserver.storage import Storage
from lab.kube.machinery.catalog import Resource


@dataclass
class RegistryContext:
    storage: Storage
    prefix: str = "/registry"  # --etcd-prefix
    service_cidr: IPv4Network | IPv6Network | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # shared helpers (e.g. the IP allocator)

    def key(self, resource: Resource, namespace: str, name: str) -> str:
        base = f"{self.prefix}/{resource.storage_prefix}"
        return f"{base}/{namespace}/{name}" if resource.namespaced else f"{base}/{name}"

    def collection_prefix(self, resource: Resource, namespace: str | None) -> str:
        base = f"{self.prefix}/{resource.storage_prefix}/"
        return f"{base}{namespace}/" if resource.namespaced and namespace else base
