"""The scheduler's node cache: NodeInfo per node with the pods bound or assumed there.

A pod is "assumed" on its node as soon as the scheduler picks it, so the next cycle sees
its resources before the binding round-trips through the API and the informer.
Assumed pods the informer never confirms expire after a TTL once binding finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.scheduler.framework import NodeInfo

ASSUMED_POD_TTL = 30.0


def _pod_id(pod: Obj) -> str:
    return meta.uid(pod) or meta.key(pod)


def node_name_of(pod: Obj) -> str:
    return str(spec_of(pod).get("nodeName") or "")


def is_terminal(pod: Obj) -> bool:
    return status_of(pod).get("phase") in ("Succeeded", "Failed")


class SchedulerCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._nodes: dict[str, NodeInfo] = {}
        self._pod_node: dict[str, str] = {}
        self._assumed: dict[str, float | None] = {}  # pod id -> expiry (None while binding)

    def _info(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo()
        return info

    # nodes
    def add_node(self, node: Obj) -> None:
        self._info(meta.name(node)).node = node

    update_node = add_node

    def remove_node(self, node: Obj) -> None:
        info = self._nodes.get(meta.name(node))
        if info is None:
            return
        info.node = None  # pods stay accounted until their deletes arrive (upstream)
        if not info.pods:
            del self._nodes[meta.name(node)]

    def node_infos(self) -> list[NodeInfo]:
        """Nodes that exist, in a stable order (the snapshot for one scheduling cycle)."""
        return [self._nodes[n] for n in sorted(self._nodes) if self._nodes[n].node is not None]

    def node_count(self) -> int:
        return len(self.node_infos())

    # pods
    def add_pod(self, pod: Obj) -> None:
        """An assigned pod seen by the informer (confirms an assumed one)."""
        pid = _pod_id(pod)
        self._assumed.pop(pid, None)
        self._remove(pid)
        if is_terminal(pod):
            return  # finished pods no longer hold resources
        self._place(pid, pod)

    update_pod = add_pod

    def remove_pod(self, pod: Obj) -> None:
        pid = _pod_id(pod)
        self._assumed.pop(pid, None)
        self._remove(pid)

    def assume(self, pod: Obj) -> None:
        """`pod` must already carry `spec.nodeName`."""
        pid = _pod_id(pod)
        self._remove(pid)
        self._place(pid, pod)
        self._assumed[pid] = None

    def is_assumed(self, pod: Obj) -> bool:
        return _pod_id(pod) in self._assumed

    def finish_binding(self, pod: Obj) -> None:
        pid = _pod_id(pod)
        if pid in self._assumed:
            self._assumed[pid] = self.clock() + ASSUMED_POD_TTL

    def forget(self, pod: Obj) -> None:
        pid = _pod_id(pod)
        if self._assumed.pop(pid, "missing") != "missing":
            self._remove(pid)

    def cleanup_expired(self) -> None:
        now = self.clock()
        for pid, deadline in list(self._assumed.items()):
            if deadline is not None and now > deadline:
                del self._assumed[pid]
                self._remove(pid)

    def _place(self, pid: str, pod: Obj) -> None:
        name = node_name_of(pod)
        self._info(name).add_pod(pod)
        self._pod_node[pid] = name

    def _remove(self, pid: str) -> None:
        name = self._pod_node.pop(pid, None)
        if name is None:
            return
        info = self._nodes.get(name)
        if info is None:
            return
        old = info.pods.get(pid)
        if old is not None:
            info.remove_pod(old)
        if info.node is None and not info.pods:
            del self._nodes[name]
