"""Nodes: status kept on create (the kubelet registers with it), `spec.unschedulable` field
selector, and the STATUS/ROLES/VERSION table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

ROLE_PREFIX = "node-role.kubernetes.io/"


def node_status(obj: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in status_of(obj).get("conditions") or []}
    text = {"True": "Ready", None: "Unknown"}.get(conds.get("Ready"), "NotReady")
    if spec_of(obj).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _address(obj: Obj, kind: str) -> str:
    for a in status_of(obj).get("addresses") or []:
        if a.get("type") == kind:
            return str(a.get("address"))
    return "<none>"


@dataclass
class NodeStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        obj["metadata"].pop("generation", None)  # status stays: the kubelet registers with it

    def fields(self, obj: Obj) -> dict[str, str]:
        return {**super().fields(obj),
                "spec.unschedulable": "true" if spec_of(obj).get("unschedulable") else "false"}

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Status", description="The status of the node"),
                column("Roles", description="The roles of the node"),
                AGE_COLUMN,
                column("Version", description="Kubelet Version reported by the node."),
                column("Internal-IP", priority=1, description="List of addresses reachable to the node. Queried from "
                       "cloud provider, if available."),
                column("External-IP", priority=1, description="List of addresses reachable to the node. Queried from "
                       "cloud provider, if available."),
                column("OS-Image", priority=1, description="OS Image reported by the node from /etc/os-release (e.g. "
                       "Debian GNU/Linux 7 (wheezy))."),
                column("Kernel-Version", priority=1, description="Kernel Version reported by the node from 'uname -r' "
                       "(e.g. 3.16.0-0.bpo.4-amd64)."),
                column("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node "
                       "through runtime remote API (e.g. containerd://1.4.2).")]

    def row(self, obj: Obj) -> list[Any]:
        info = status_of(obj).get("nodeInfo") or {}
        roles = sorted(k[len(ROLE_PREFIX):] for k in meta.labels(obj) if k.startswith(ROLE_PREFIX))
        if "kubernetes.io/role" in meta.labels(obj):
            roles.append(meta.labels(obj)["kubernetes.io/role"])
        return [meta.name(obj), node_status(obj), ",".join(r for r in roles if r) or "<none>",
                age(obj), info.get("kubeletVersion", ""), _address(obj, "InternalIP"),
                _address(obj, "ExternalIP"), info.get("osImage") or "<unknown>",
                info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


STRATEGY = NodeStrategy(catalog.NODES)
