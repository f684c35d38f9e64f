"""The node's pod network, driven by Node objects: CNI config for our podCIDR, routes to everyone else's.

One reconcile key over the nodes Informer: any node change re-runs `sync`, which writes the
conflist when our spec.podCIDR is known and keeps the host-gw routes; `ready` then turns True.
"""

from __future__ import annotations

import logging

from lab.kube.client import Informer, WorkQueue, run_controller
from lab.kube.kubelet import cni
from lab.kube.kubelet.pod_masquerade import PodMasquerade
from lab.kube.kubelet.routes import RouteManager
from lab.kube.machinery.objects import spec_of

log = logging.getLogger(__name__)
KEY = "node-network"


class NodeNetwork:
    def __init__(self, nodes: Informer, node_name: str, cni_conf_dir: str, routes: RouteManager | None,
                 masquerade: PodMasquerade | None = None) -> None:
        """`routes` and `masquerade` come together (host-gw networking) or not at all."""
        self.nodes, self.node_name, self.cni_conf_dir, self.routes = nodes, node_name, cni_conf_dir, routes
        self.masquerade = masquerade
        self.pod_cidr = ""
        self.queue = WorkQueue("kubelet-node-network")

        def kick(*_: object) -> None:
            self.queue.add(KEY)

        nodes.add_handler(on_add=kick, on_update=kick, on_delete=kick)

    @property
    def ready(self) -> bool:
        return bool(self.pod_cidr)

    async def sync(self, _key: str = KEY) -> None:
        me = self.nodes.store.get(self.node_name)
        cidr = spec_of(me or {}).get("podCIDR", "")
        if cidr:
            if cni.write_conflist(self.cni_conf_dir, cidr):
                log.info("Wrote CNI config %s/%s for podCIDR %s", self.cni_conf_dir, cni.CONF_NAME, cidr)
            self.pod_cidr = cidr
        elif not self.pod_cidr:
            log.info("Waiting for node %s to get a podCIDR", self.node_name)
        if self.routes is not None:
            await self.routes.sync(self.nodes.store.list())
        if self.masquerade is not None and self.pod_cidr:
            cidrs = [c for n in self.nodes.store.list() if (c := spec_of(n).get("podCIDR"))]
            await self.masquerade.sync(self.pod_cidr, cidrs)

    async def run(self) -> None:
        self.queue.add(KEY)
        await run_controller(self.queue, self.sync, workers=1)
