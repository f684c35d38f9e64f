"""Endpoints controller: the `Endpoints` object named like each selector Service.

Subsets group addresses by the port set they serve; ready pods go to `addresses`,
the others (and terminating ones) to `notReadyAddresses`, unless the Service publishes
not-ready addresses. Services without a selector are left to whoever manages them.
"""

from __future__ import annotations

import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.podutil import is_ready, pod_ips
from lab.kube.controllers.servicepods import (
    endpoint_ports,
    pod_handlers,
    publishes_not_ready,
    selects_pods,
    service_pods,
    target_ref,
)
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


def build_subsets(svc: Obj, pods: list[Obj]) -> list[Obj]:
    groups: dict[str, Obj] = {}
    for pod in pods:
        ports = endpoint_ports(svc, pod)
        if spec_of(svc).get("ports") and not ports:
            continue
        group_key = repr(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        subset = groups.setdefault(group_key, {"addresses": [], "notReadyAddresses": [], "ports": ports})
        address: Obj = {"ip": pod_ips(pod)[0], "targetRef": target_ref(pod)}
        if spec_of(pod).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        ready = (is_ready(pod) and not meta.is_deleting(pod)) or publishes_not_ready(svc)
        subset["addresses" if ready else "notReadyAddresses"].append(address)
    subsets = []
    for s in groups.values():
        for field in ("addresses", "notReadyAddresses"):
            s[field].sort(key=lambda a: a["ip"])
            if not s[field]:
                del s[field]
        if not s["ports"]:
            del s["ports"]
        subsets.append(s)
    return sorted(subsets, key=lambda s: repr(s.get("ports")))


class EndpointsController:
    name = "endpoint"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.services = informers.get(catalog.SERVICES)
        self.pods = informers.get(catalog.PODS)
        self.endpoints = informers.get(catalog.ENDPOINTS)
        self.queue = WorkQueue("endpoint")

        def enqueue(obj: Obj) -> None:
            self.queue.add(meta.key(obj))

        self.services.add_handler(enqueue, lambda old, new: enqueue(new), enqueue)
        on_pod, on_pod_update = pod_handlers(self.services, self.queue)
        self.pods.add_handler(on_pod, on_pod_update, on_pod)
        self.endpoints.add_handler(on_delete=enqueue)  # someone deleted ours: recreate it

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        svc = self.services.store.get(key)
        namespace, name = meta.split_key(key)
        current = self.endpoints.store.get(key)
        if svc is None:
            if current is not None:
                try:
                    await self.client.delete(catalog.ENDPOINTS, name, namespace)
                except errors.NotFound:
                    pass
            return
        if not selects_pods(svc):
            return
        pods = service_pods(svc, self.pods.store.by_index(NAMESPACE_INDEX, namespace))
        subsets = build_subsets(svc, pods)
        labels = dict(meta.labels(svc))
        if spec_of(svc).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        if current is not None and (current.get("subsets") or []) == subsets and meta.labels(current) == labels:
            return
        body: Obj = {"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": {"name": name, "namespace": namespace, "labels": labels,
                                  "annotations": {TRIGGER_TIME: meta.now()}},
                     "subsets": subsets}
        if current is None:
            try:
                await self.client.create(catalog.ENDPOINTS, body, namespace)
                return
            except errors.AlreadyExists:
                current = await self.client.get(catalog.ENDPOINTS, name, namespace)
        body["metadata"]["resourceVersion"] = meta.resource_version(current)
        await self.client.update(catalog.ENDPOINTS, body)
