"""The work queue series upstream's controllers export on /metrics (component-base
`workqueue` metrics): depth, adds, retries, and the time keys wait and are worked on, per queue
name (the controller's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.kube.component.metrics import Counter, Histogram, exponential_buckets

# upstream: prometheus.ExponentialBuckets(10e-9, 10, 12)
LATENCY_BUCKETS = exponential_buckets(1e-8, 10, 12)


@dataclass
class WorkqueueMetrics:
    adds: Counter = field(default_factory=lambda: Counter(
        "workqueue_adds_total", "[ALPHA] Total number of adds handled by workqueue", ("name",)))
    retries: Counter = field(default_factory=lambda: Counter(
        "workqueue_retries_total", "[ALPHA] Total number of retries handled by workqueue", ("name",)))
    queue_duration: Histogram = field(default_factory=lambda: Histogram(
        "workqueue_queue_duration_seconds",
        "[ALPHA] How long in seconds an item stays in workqueue before being requested.", LATENCY_BUCKETS, ("name",)))
    work_duration: Histogram = field(default_factory=lambda: Histogram(
        "workqueue_work_duration_seconds", "[ALPHA] How long in seconds processing an item from workqueue takes.",
        LATENCY_BUCKETS, ("name",)))
    depths: dict[str, int] = field(default_factory=dict)

    def added(self, queue: str) -> None:
        self.adds.inc(queue)

    def depth(self, queue: str, depth: int) -> None:
        self.depths[queue] = depth

    def waited(self, queue: str, seconds: float) -> None:
        self.queue_duration.observe(seconds, queue)

    def worked(self, queue: str, seconds: float) -> None:
        self.work_duration.observe(seconds, queue)

    def retried(self, queue: str) -> None:
        self.retries.inc(queue)

    def render(self) -> str:
        lines = ["# HELP workqueue_depth [ALPHA] Current depth of workqueue", "# TYPE workqueue_depth gauge"]
        lines += [f'workqueue_depth{{name="{q}"}} {d}' for q, d in sorted(self.depths.items())]
        for series in (self.adds, self.retries, self.queue_duration, self.work_duration):
            lines += series.render()
        return "\n".join(lines) + "\n"
