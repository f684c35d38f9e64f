"""Node IPAM controller (`--allocate-node-cidrs`): give each node a pod CIDR from `--cluster-cidr`.

Before any worker runs, the CIDRs nodes already carry are marked used (so a restarted
controller-manager never hands one out twice); nodes without one get the next free CIDR
as `spec.podCIDR` + `spec.podCIDRs`, and a deleted node's CIDR is released.
"""

from __future__ import annotations

import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.cidrset import CidrSet
from lab.kube.controllers.informers import SharedInformers
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)

def node_cidrs(node: Obj) -> list[str]:
    spec = spec_of(node)
    return list(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))


class NodeIpamController:
    name = "nodeipam"

    def __init__(self, client: Client, informers: SharedInformers, cluster_cidr: str, mask_size: int = 24) -> None:
        self.client = client
        self.cidrs = CidrSet(cluster_cidr, mask_size)
        self.nodes = informers.get(catalog.NODES)
        self.queue = WorkQueue("nodeipam")
        self._by_node: dict[str, str] = {}  # what we believe each node holds, to release on delete
        self.nodes.add_handler(self._enqueue, lambda old, new: self._enqueue(new), self._deleted)

    def _enqueue(self, node: Obj) -> None:
        self.queue.add(meta.name(node))

    def _deleted(self, node: Obj) -> None:
        for cidr in node_cidrs(node) or [self._by_node.get(meta.name(node), "")]:
            if cidr and self.cidrs.contains(cidr):
                self.cidrs.release(cidr)
                log.info("released CIDR %s of deleted node %s", cidr, meta.name(node))
        self._by_node.pop(meta.name(node), None)

    def occupy_existing(self) -> None:
        """Called after the node informer synced, before workers start."""
        for node in self.nodes.store.list():
            for cidr in node_cidrs(node):
                if self.cidrs.contains(cidr):
                    self.cidrs.occupy(cidr)
                    self._by_node[meta.name(node)] = cidr
                else:
                    log.warning("node %s has CIDR %s outside the cluster CIDR %s", meta.name(node), cidr,
                                self.cidrs.cluster)

    async def run(self, workers: int = 1) -> None:
        self.occupy_existing()
        # one worker: allocation is in-memory and cheap, and a single writer keeps it simple
        await run_controller(self.queue, self.sync, 1)

    async def sync(self, name: str) -> None:
        node = self.nodes.store.get(name)
        if node is None:
            return
        have = node_cidrs(node)
        if have:
            for cidr in have:
                if self.cidrs.contains(cidr):
                    self.cidrs.occupy(cidr)
                    self._by_node[name] = cidr
            return
        if name in self._by_node:
            cidr = self._by_node[name]  # allocated before, the informer has not caught up yet
        else:
            cidr = self.cidrs.allocate_next()
        try:
            await self.client.patch(catalog.NODES, name, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
        except errors.NotFound:
            self.cidrs.release(cidr)
            return
        except Exception:
            self.cidrs.release(cidr)
            self._by_node.pop(name, None)
            raise
        self._by_node[name] = cidr
        log.info("Set node %s PodCIDR to [%s]", name, cidr)
