"""EndpointSlice controller: discovery.k8s.io/v1 slices for each selector Service.

Endpoints are grouped by the port set they serve and cut into slices of at most 100
(`--max-endpoints-per-slice`); existing slices of the Service are reused in order,
updated only when their content changed, and surplus slices deleted.
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
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100


def build_endpoint(svc: Obj, pod: Obj) -> Obj:
    terminating = meta.is_deleting(pod)
    ready = is_ready(pod)
    ep: Obj = {
        "addresses": [pod_ips(pod)[0]],
        "conditions": {"ready": (ready and not terminating) or publishes_not_ready(svc),
                       "serving": ready, "terminating": terminating},
        "targetRef": target_ref(pod),
    }
    if spec_of(pod).get("nodeName"):
        ep["nodeName"] = pod["spec"]["nodeName"]
    return ep


def desired_slices(svc: Obj, pods: list[Obj],
                   max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> list[tuple[list[Obj], list[Obj]]]:
    """(ports, endpoints) per slice, endpoints sorted by address for stable content."""
    groups: dict[str, tuple[list[Obj], list[Obj]]] = {}
    for pod in pods:
        if ":" in pod_ips(pod)[0]:
            continue  # an IPv4 slice only (no dual-stack yet)
        ports = endpoint_ports(svc, pod)
        key = repr(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        groups.setdefault(key, (ports, []))[1].append(build_endpoint(svc, pod))
    out = []
    for key in sorted(groups):
        ports, eps = groups[key]
        eps.sort(key=lambda e: e["addresses"][0])
        for i in range(0, len(eps), max_per_slice):
            out.append((ports, eps[i:i + max_per_slice]))
    if not out:
        out.append(([], []))  # upstream keeps one placeholder slice so consumers see "no endpoints"
    return out


def slice_labels(svc: Obj) -> dict[str, str]:
    labels = {k: v for k, v in meta.labels(svc).items() if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
    labels.update({SERVICE_NAME_LABEL: meta.name(svc), MANAGED_BY_LABEL: CONTROLLER_NAME})
    return labels


def _same(current: Obj, ports: list[Obj], endpoints: list[Obj], labels: dict[str, str]) -> bool:
    return ((current.get("ports") or []) == ports and (current.get("endpoints") or []) == endpoints
            and meta.labels(current) == labels)


class EndpointSliceController:
    name = "endpointslice"

    def __init__(self, client: Client, informers: SharedInformers,
                 max_per_slice: int = MAX_ENDPOINTS_PER_SLICE) -> None:
        self.client = client
        self.max_per_slice = max_per_slice
        self.services = informers.get(catalog.SERVICES)
        self.pods = informers.get(catalog.PODS)
        self.slices = informers.get(catalog.ENDPOINTSLICES)
        self.queue = WorkQueue("endpointslice")
        # slices we created that the informer may not show yet (generateName: no second chance to dedupe)
        self._created: dict[str, dict[str, Obj]] = {}

        def enqueue(obj: Obj) -> None:
            self.queue.add(meta.key(obj))

        self.services.add_handler(enqueue, lambda old, new: enqueue(new), enqueue)
        on_pod, on_pod_update = pod_handlers(self.services, self.queue)
        self.pods.add_handler(on_pod, on_pod_update, on_pod)
        self.slices.add_handler(self._slice_changed, lambda old, new: self._slice_changed(new), self._slice_changed)

    def _slice_changed(self, s: Obj) -> None:
        if meta.labels(s).get(MANAGED_BY_LABEL) == CONTROLLER_NAME and meta.labels(s).get(SERVICE_NAME_LABEL):
            self.queue.add(f"{meta.namespace(s)}/{meta.labels(s)[SERVICE_NAME_LABEL]}")

    def owned_slices(self, namespace: str, service: str) -> list[Obj]:
        found = {meta.name(s): s for s in self.slices.store.by_index(NAMESPACE_INDEX, namespace)
                 if meta.labels(s).get(SERVICE_NAME_LABEL) == service
                 and meta.labels(s).get(MANAGED_BY_LABEL) == CONTROLLER_NAME and not meta.is_deleting(s)}
        pending = self._created.get(f"{namespace}/{service}", {})
        for slice_name in list(pending):
            if slice_name in found:
                del pending[slice_name]  # the informer caught up
            else:
                found[slice_name] = pending[slice_name]
        return sorted(found.values(), key=meta.name)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        namespace, name = meta.split_key(key)
        svc = self.services.store.get(key)
        existing = self.owned_slices(namespace, name)
        if svc is None or not selects_pods(svc):
            # the garbage collector would get them via ownerReferences; doing it here is quicker
            if svc is None:
                for s in existing:
                    await self._delete(s)
            return
        pods = service_pods(svc, self.pods.store.by_index(NAMESPACE_INDEX, namespace))
        labels = slice_labels(svc)
        wanted = desired_slices(svc, pods, self.max_per_slice)
        for i, (ports, endpoints) in enumerate(wanted):
            if i < len(existing):
                current = existing[i]
                if not _same(current, ports, endpoints, labels):
                    body = dict(current, ports=ports, endpoints=endpoints)
                    body["metadata"] = dict(current["metadata"], labels=labels)
                    await self.client.update(catalog.ENDPOINTSLICES, body)
                continue
            body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"generateName": f"{name}-", "namespace": namespace, "labels": labels,
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                      "uid": meta.uid(svc), "controller": True,
                                                      "blockOwnerDeletion": True}]},
                    "addressType": "IPv4", "endpoints": endpoints, "ports": ports}
            created = await self.client.create(catalog.ENDPOINTSLICES, body, namespace)
            self._created.setdefault(key, {})[meta.name(created)] = created
        for s in existing[len(wanted):]:
            await self._delete(s)

    async def _delete(self, s: Obj) -> None:
        self._created.get(f"{meta.namespace(s)}/{meta.labels(s).get(SERVICE_NAME_LABEL)}", {}).pop(meta.name(s), None)
        try:
            await self.client.delete(catalog.ENDPOINTSLICES, meta.name(s), meta.namespace(s))
        except errors.NotFound:
            pass
