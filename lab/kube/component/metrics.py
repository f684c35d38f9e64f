"""Prometheus text-format series for the components' /metrics, without a client library.

A `Histogram` or `Counter` holds one series per label value tuple; `render()` gives the lines
with HELP and TYPE as upstream's component-base metrics print them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

# prometheus.ExponentialBuckets(0.001, 2, 15): kube-proxy's sync durations
INF = 'le="+Inf"'
SYNC_BUCKETS = tuple(0.001 * 2**i for i in range(15))


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    return tuple(start * factor**i for i in range(count))


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    pairs = [f'{n}="{v}"' for n, v in zip(names, values, strict=True)] + ([extra] if extra else [])
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _le(bound: float) -> str:
    return f'le="{bound:g}"'


@dataclass
class _Series:
    counts: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...] = SYNC_BUCKETS
    label_names: tuple[str, ...] = ()
    series: dict[tuple[str, ...], _Series] = field(default_factory=dict)

    def observe(self, value: float, *labels: str) -> None:
        s = self.series.get(labels)
        if s is None:
            s = self.series[labels] = _Series([0] * len(self.buckets))
        for j in range(bisect.bisect_left(self.buckets, value), len(self.buckets)):
            s.counts[j] += 1
        s.total += value
        s.count += 1

    @property
    def count(self) -> int:
        return sum(s.count for s in self.series.values())

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        series = self.series or ({} if self.label_names else {(): _Series([0] * len(self.buckets))})
        for values, s in sorted(series.items()):
            name, keys = self.name, self.label_names
            lines += [f"{name}_bucket{_labels(keys, values, _le(b))} {n}"
                      for b, n in zip(self.buckets, s.counts, strict=True)]
            lines += [f"{name}_bucket{_labels(keys, values, INF)} {s.count}",
                      f"{name}_sum{_labels(keys, values)} {s.total:g}",
                      f"{name}_count{_labels(keys, values)} {s.count}"]
        return lines


@dataclass
class Counter:
    name: str
    help: str
    label_names: tuple[str, ...] = ()
    values: dict[tuple[str, ...], float] = field(default_factory=dict)

    def inc(self, *labels: str, by: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + by

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        values = self.values or ({} if self.label_names else {(): 0.0})
        lines += [f"{self.name}{_labels(self.label_names, k)} {v:g}" for k, v in sorted(values.items())]
        return lines
