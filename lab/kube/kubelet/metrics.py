"""The kubelet's own series on /metrics, named as upstream's pkg/kubelet/metrics.

CRI calls by operation (`kubelet_runtime_operations_*`, as upstream's instrumented runtime
service records them), pod starts (first seen -> Running) and pod syncs, so a slow start can
be taken apart: `kubectl get --raw /api/v1/nodes/<node>/proxy/metrics`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lab.kube.component.metrics import Counter, Histogram, exponential_buckets

DEF_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)  # prometheus.DefBuckets
POD_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200,
                     1800, 2700, 3600)
# upstream's operation names where they are not the method's snake case
OPERATION = {"RunPodSandbox": "run_podsandbox", "StopPodSandbox": "stop_podsandbox",
             "RemovePodSandbox": "remove_podsandbox", "PodSandboxStatus": "podsandbox_status",
             "ListPodSandbox": "list_podsandbox", "UpdateContainerResources": "update_container"}


def operation_type(method: str) -> str:
    return OPERATION.get(method) or re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def _runtime_duration() -> Histogram:
    return Histogram("kubelet_runtime_operations_duration_seconds",
                     "[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.",
                     exponential_buckets(.005, 2.5, 14), ("operation_type",))


@dataclass
class KubeletMetrics:
    runtime_duration: Histogram = field(default_factory=_runtime_duration)
    runtime_total: Counter = field(default_factory=lambda: Counter(
        "kubelet_runtime_operations_total",
        "[ALPHA] Cumulative number of runtime operations by operation type.", ("operation_type",)))
    runtime_errors: Counter = field(default_factory=lambda: Counter(
        "kubelet_runtime_operations_errors_total",
        "[ALPHA] Cumulative number of runtime operation errors by operation type.", ("operation_type",)))
    pod_start: Histogram = field(default_factory=lambda: Histogram(
        "kubelet_pod_start_duration_seconds",
        "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
        POD_START_BUCKETS))
    pod_worker: Histogram = field(default_factory=lambda: Histogram(
        "kubelet_pod_worker_duration_seconds",
        "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
        DEF_BUCKETS, ("operation_type",)))

    def runtime_call(self, method: str, seconds: float, failed: bool) -> None:
        op = operation_type(method)
        self.runtime_duration.observe(seconds, op)
        self.runtime_total.inc(op)
        if failed:
            self.runtime_errors.inc(op)

    def render(self) -> list[str]:
        return [*self.runtime_duration.render(), *self.runtime_total.render(), *self.runtime_errors.render(),
                *self.pod_start.render(), *self.pod_worker.render()]
