"""PrioritySort (QueueSort): higher `spec.priority` first, then the pod that waited longest."""

from __future__ import annotations

from typing import Any

from lab.kube.machinery.objects import spec_of
from lab.kube.scheduler.framework import QueuedPodInfo

NAME = "PrioritySort"


def pod_priority(pod: dict[str, Any]) -> int:
    return int(spec_of(pod).get("priority") or 0)


class PrioritySort:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        pass

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        pa, pb = pod_priority(a.pod), pod_priority(b.pod)
        return pa > pb or (pa == pb and a.timestamp < b.timestamp)
