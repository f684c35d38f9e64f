"""Objects every cluster has: the system namespaces, the `kubernetes` Service with its
Endpoints/EndpointSlice pointing at this API server, and the two system PriorityClasses.
Reconciled at every start (idempotent), retrying while storage is away; readiness waits for the
first complete pass."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.rbac import reconcile as rbac_reconcile
from lab.kube.apiserver.storage import StorageError
from lab.kube.apiserver.strategies.scheduling import SYSTEM_CLASSES, system_class
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import spec_of

log = logging.getLogger(__name__)
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
FIRST_RETRY, MAX_RETRY = 0.5, 10.0  # seconds between attempts while etcd is away, doubling


async def run(ctx: ServerContext) -> None:
    """Reconcile and repair until one pass succeeds, then mark the server bootstrapped.

    Storage errors (etcd away, surfacing as `StorageError` or an `APIError` such as
    ServiceUnavailable or a Conflict with another API server) are retried with a logged
    warning; anything else is a bug and propagates to the server's task group.
    """
    delay = FIRST_RETRY
    while True:
        try:
            await reconcile(ctx)
            await rbac_reconcile.reconcile(ctx)
            await repair_service_ips(ctx)
        except (errors.APIError, StorageError) as exc:  # readyz says why meanwhile
            log.warning("bootstrap failed, retrying in %.1fs: %s", delay, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY)
            continue
        ctx.readiness.bootstrapped.set()
        log.info("bootstrap objects reconciled")
        return


async def _ensure(ctx: ServerContext, res: catalog.Resource, ns: str | None, desired: dict[str, Any],
                  compare: tuple[str, ...]) -> None:
    """Create `desired`, or update the `compare` fields when they drifted."""
    reg = ctx.registries[res]
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


async def reconcile(ctx: ServerContext) -> None:
    s = ctx.settings
    for ns in SYSTEM_NAMESPACES:
        await _ensure(ctx, catalog.NAMESPACES, None,
                      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, ())
    await _ensure(ctx, catalog.SERVICES, "default", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": s.first_service_ip, "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                            "targetPort": s.secure_port}]},
    }, ())
    labels = {"endpointslice.kubernetes.io/skip-mirror": "true"}
    await _ensure(ctx, catalog.ENDPOINTS, "default", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
        "subsets": [{"addresses": [{"ip": s.advertise}],
                     "ports": [{"name": "https", "port": s.secure_port, "protocol": "TCP"}]}],
    }, ("subsets",))
    await _ensure(ctx, catalog.ENDPOINTSLICES, "default", {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv6" if ":" in s.advertise else "IPv4",
        "endpoints": [{"addresses": [s.advertise], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": s.secure_port, "protocol": "TCP"}],
    }, ("endpoints", "ports"))
    for name in SYSTEM_CLASSES:
        await _ensure(ctx, catalog.PRIORITY_CLASSES, None, system_class(name), ())


async def repair_service_ips(ctx: ServerContext) -> None:
    """Free cluster IPs held by Services that no longer exist (a crash mid-create)."""
    alloc = ctx.service_ips
    services = (await ctx.registries[catalog.SERVICES].list(None))["items"]
    in_use = {ip for svc in services for ip in spec_of(svc).get("clusterIPs") or []}
    for ip, owner in (await alloc.allocated()).items():
        if ip and ip not in in_use:
            log.info("releasing leaked cluster IP %s (owner %s)", ip, owner)
            await alloc.release(ip)
