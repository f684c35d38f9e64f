"""Objects every cluster has: the system namespaces and the `kubernetes` Service with its
Endpoints/EndpointSlice pointing at this API server. Reconciled at every start (idempotent)."""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

from lab.kube.machinery import catalog, errors

if TYPE_CHECKING:
    from lab.kube.apiserver.server import APIServer

log = logging.getLogger(__name__)
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def _ensure(server: APIServer, res: catalog.Resource, ns: str | None, desired: dict[str, Any],
                  compare: tuple[str, ...]) -> None:
    """Create `desired`, or update the `compare` fields when they drifted."""
    reg = server.registries[res]
    name = desired["metadata"]["name"]
    try:
        current = await reg.get(ns, name)
    except errors.NotFound:
        try:
            await reg.create(ns, desired)
            log.info("created %s %s", res.plural, name)
        except errors.AlreadyExists:
            pass  # another API server was faster
        return
    if all(current.get(k) == desired.get(k) for k in compare):
        return
    updated = copy.deepcopy(current)
    for k in compare:
        updated[k] = desired[k]
    await reg.update(ns, name, updated)
    log.info("reconciled %s %s", res.plural, name)


async def reconcile(server: APIServer) -> None:
    s = server.settings
    for ns in SYSTEM_NAMESPACES:
        await _ensure(server, catalog.NAMESPACES, None,
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, ())
    await _ensure(server, catalog.SERVICES, "default", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": s.first_service_ip, "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                            "targetPort": s.secure_port}]},
    }, ())
    labels = {"endpointslice.kubernetes.io/skip-mirror": "true"}
    await _ensure(server, catalog.ENDPOINTS, "default", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
        "subsets": [{"addresses": [{"ip": s.advertise}],
                     "ports": [{"name": "https", "port": s.secure_port, "protocol": "TCP"}]}],
    }, ("subsets",))
    await _ensure(server, catalog.ENDPOINTSLICES, "default", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv6" if ":" in s.advertise else "IPv4",
        "endpoints": [{"addresses": [s.advertise], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": s.secure_port, "protocol": "TCP"}],
    }, ("endpoints", "ports"))


async def repair_service_ips(server: APIServer) -> None:
    """Free cluster IPs held by Services that no longer exist (a crash mid-create)."""
    alloc = server.ctx.extras.get("service_ips")
    if alloc is None:
        return
    services = (await server.registries[catalog.SERVICES].list(None))["items"]
    in_use = {ip for svc in services for ip in (svc.get("spec") or {}).get("clusterIPs") or []}
    for ip, owner in (await alloc.allocated()).items():
        if ip and ip not in in_use:
            log.info("releasing leaked cluster IP %s (owner %s)", ip, owner)
            await alloc.release(ip)
