"""What the REST handlers and bootstrap reach of an API server: its settings, the registries,
the cluster IP allocator and readiness. `build_context` wires them from Settings and a Storage;
`server.APIServer` runs them. Nothing below server.py needs the server object itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from lab.kube.apiserver import ipalloc
from lab.kube.apiserver.admission.setup import build_plugins
from lab.kube.apiserver.authn.chain import AuthenticationChain
from lab.kube.apiserver.authn.setup import build_authenticator
from lab.kube.apiserver.authz.authorizer import Authorizer
from lab.kube.apiserver.authz.setup import build_authorizer
from lab.kube.apiserver.kubelet_client import KubeletClient
from lab.kube.apiserver.readiness import Readiness
from lab.kube.apiserver.registry import Registry, RegistryContext
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage import Storage
from lab.kube.apiserver.strategies import for_resource
from lab.kube.machinery import catalog
from lab.kube.machinery.catalog import Resource


@dataclass(frozen=True)
class ServerContext:
    settings: Settings
    """The server's flags: addresses for discovery and bootstrap, the watch bookmark interval."""
    registries: Mapping[Resource, Registry]
    """One registry per catalog resource, all on one RegistryContext (storage and allocators)."""
    service_ips: ipalloc.KeyAllocator
    """The cluster IP allocator the Service registry uses; bootstrap frees the IPs it leaked."""
    readiness: Readiness
    """What /readyz reports; bootstrap sets `readiness.bootstrapped`."""
    authenticator: AuthenticationChain
    """Who each request is (x509, bearer tokens, anonymous on the anonymous paths)."""
    authorizer: Authorizer
    """Whether it may do what it asks (`--authorization-mode`)."""
    kubelets: KubeletClient
    """How to reach a node's kubelet (logs, exec, attach, port-forward, nodes/proxy)."""


def build_context(settings: Settings, storage: Storage) -> ServerContext:
    """Registries for every catalog resource on `storage`, with Service allocators from settings."""
    service_ips = ipalloc.service_ip_allocator(storage, settings.etcd_prefix,
                                               settings.service_cluster_ip_range)
    node_ports = ipalloc.node_port_allocator(storage, settings.etcd_prefix,
                                             settings.service_node_port_range)
    shared = RegistryContext(
        storage, settings.etcd_prefix,
        ipaddress.ip_network(settings.service_cluster_ip_range, strict=False),
        service_ips=service_ips, node_ports=node_ports)
    registries = {r: Registry(for_resource(r), shared) for r in catalog.RESOURCES}
    shared.admission.plugins.extend(build_plugins(settings, registries))  # plugins may read registries
    nodes = registries[catalog.NODES]
    authorizer = build_authorizer(settings, registries)
    readiness = Readiness(storage, caches_synced=getattr(authorizer, "synced", lambda: True))
    return ServerContext(settings, registries, service_ips, readiness, build_authenticator(settings, registries),
                         authorizer, KubeletClient(settings, lambda name: nodes.get(None, name)))
