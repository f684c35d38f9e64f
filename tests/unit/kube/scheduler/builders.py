"""Small builders for the scheduler tests: nodes and pods as plain dicts."""

from __future__ import annotations

from typing import Any

from lab.kube.scheduler.framework import NodeInfo

Obj = dict[str, Any]


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, labels: dict[str, str] | None = None,
         taints: list[Obj] | None = None, unschedulable: bool = False) -> Obj:
    spec: Obj = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels or {"kubernetes.io/hostname": name}},
            "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods),
                                       "ephemeral-storage": "20Gi"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, cpu: str | None = None, memory: str | None = None, namespace: str = "default",
        node_name: str = "", **spec: Any) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container: Obj = {"name": "app", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    body: Obj = {"containers": [container], **spec}
    if node_name:
        body["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"}, "spec": body}


def node_info(n: Obj, *pods: Obj) -> NodeInfo:
    info = NodeInfo(n)
    for p in pods:
        info.add_pod(p)
    return info
