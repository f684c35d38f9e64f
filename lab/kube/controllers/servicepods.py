"""What the Endpoints and EndpointSlice controllers share: a Service's pods and their ports.

Service `targetPort` is a number or the name of a container port (resolved per pod,
as upstream `podutil.FindPort`); an unset targetPort means the service port itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.kube.client import WorkQueue
from lab.kube.controllers.informers import NAMESPACE_INDEX
from lab.kube.controllers.podutil import is_terminal, pod_ips
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.machinery.selectors import LabelSelector

# the apiserver keeps default/kubernetes current itself (its endpoint reconciler)
APISERVER_SERVICE = "default/kubernetes"


def selects_pods(svc: Obj) -> bool:
    """Only Services with a selector get controller-managed endpoints."""
    return bool(spec_of(svc).get("selector")) and meta.key(svc) != APISERVER_SERVICE


def service_pods(svc: Obj, pods_in_namespace: list[Obj]) -> list[Obj]:
    """Pods that back the Service: selected, not finished, with an IP."""
    selector = LabelSelector.from_labels(spec_of(svc).get("selector"))
    return sorted((p for p in pods_in_namespace
                   if selector.matches(meta.labels(p)) and not is_terminal(p) and pod_ips(p)),
                  key=meta.name)


def find_port(pod: Obj, svc_port: Obj) -> int | None:
    target = svc_port.get("targetPort")
    if target is None or target == "":
        return int(svc_port.get("port") or 0) or None
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    protocol = svc_port.get("protocol") or "TCP"
    for c in spec_of(pod).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                return int(p["containerPort"])
    return None


def endpoint_ports(svc: Obj, pod: Obj) -> list[Obj]:
    """`[{name, port, protocol}]` for this pod; ports it cannot serve are left out."""
    out = []
    for sp in spec_of(svc).get("ports") or []:
        port = find_port(pod, sp)
        if port is None:
            continue
        entry: Obj = {"port": port, "protocol": sp.get("protocol") or "TCP"}
        if sp.get("name"):
            entry["name"] = sp["name"]
        if sp.get("appProtocol"):
            entry["appProtocol"] = sp["appProtocol"]
        out.append(entry)
    return out


def publishes_not_ready(svc: Obj) -> bool:
    return bool(spec_of(svc).get("publishNotReadyAddresses"))


def target_ref(pod: Obj) -> Obj:
    return {"kind": "Pod", "namespace": meta.namespace(pod), "name": meta.name(pod), "uid": meta.uid(pod)}


def pod_handlers(services: Any, queue: WorkQueue) -> tuple[Callable[[Obj], None], Callable[[Obj, Obj], None]]:
    """Handlers that enqueue every Service whose selector matches the pod (before or after)."""
    def matching(pod: Obj) -> list[str]:
        return [meta.key(s) for s in services.store.by_index(NAMESPACE_INDEX, meta.namespace(pod))
                if selects_pods(s) and LabelSelector.from_labels(s["spec"]["selector"]).matches(meta.labels(pod))]

    def on_pod(pod: Obj) -> None:
        for key in matching(pod):
            queue.add(key)

    def on_pod_update(old: Obj, new: Obj) -> None:
        for key in set(matching(old)) | set(matching(new)):
            queue.add(key)

    return on_pod, on_pod_update
