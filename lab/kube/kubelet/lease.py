"""The node heartbeat Lease (kube-node-lease/<node>), renewed every 10 s (upstream nodelease controller).

The node lifecycle controller reads renewTime to tell a live kubelet from a dead one; the Lease
is owned by the Node so it goes away with it.
"""

from __future__ import annotations

import asyncio
import logging

from lab.kube.client import Client
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
NAMESPACE = "kube-node-lease"
DURATION = 40
RENEW_INTERVAL = 10.0  # upstream: 25% of the duration


class NodeLease:
    def __init__(self, client: Client, node_name: str, duration: int = DURATION,
                 interval: float = RENEW_INTERVAL) -> None:
        self.client, self.node_name, self.duration, self.interval = client, node_name, duration, interval
        self.lease: Obj | None = None

    def _new(self, node: Obj) -> Obj:
        owner = {"apiVersion": "v1", "kind": "Node", "name": meta.name(node), "uid": meta.uid(node)}
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.node_name, "namespace": NAMESPACE, "ownerReferences": [owner]},
                "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": self.duration,
                         "renewTime": meta.now_micro()}}

    async def renew(self) -> Obj:
        """Create the Lease, or move its renewTime forward (a PUT, so a stale copy is a Conflict)."""
        try:
            current = await self.client.get(catalog.LEASES, self.node_name, NAMESPACE)
        except errors.NotFound:
            node = await self.client.get(catalog.NODES, self.node_name)
            self.lease = await self.client.create(catalog.LEASES, self._new(node))
            return self.lease
        spec = current.setdefault("spec", {})
        spec.update(holderIdentity=self.node_name, leaseDurationSeconds=self.duration, renewTime=meta.now_micro())
        self.lease = await self.client.update(catalog.LEASES, current)
        return self.lease

    async def run(self) -> None:
        while True:
            try:
                await self.renew()
            except (TimeoutError, errors.APIError, OSError) as exc:
                log.warning("Failed to update lease %s/%s, will retry: %s", NAMESPACE, self.node_name, exc)
            await asyncio.sleep(self.interval)
