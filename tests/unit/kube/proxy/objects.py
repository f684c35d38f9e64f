"""Service and EndpointSlice dicts for the proxy tests, shaped like the API returns them."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def service(name: str, cluster_ip: str, *ports: tuple[str, int, str], namespace: str = "default",
            **spec: Any) -> Obj:
    """A Service; each port is (name, port, protocol)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": cluster_ip, "type": "ClusterIP",
                     "ports": [{"name": n, "port": p, "protocol": proto, "targetPort": p} for n, p, proto in ports],
                     **spec}}


def endpoint(ip: str, ready: bool = True, **conditions: bool) -> Obj:
    return {"addresses": [ip], "conditions": {"ready": ready, **conditions}}


def endpoint_slice(service_name: str, endpoints: list[Obj], *ports: tuple[str, int, str],
                   namespace: str = "default", name: str = "") -> Obj:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name or f"{service_name}-abcde", "namespace": namespace,
                         "labels": {"kubernetes.io/service-name": service_name}},
            "endpoints": endpoints,
            "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]}
