"""One scheduling decision, pure: filter the snapshot, score the feasible nodes, pick one.

No I/O here, so the whole decision (including the "0/N nodes are available" message)
is unit-tested with NodeInfos built by hand.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from lab.kube.machinery.objects import Obj
from lab.kube.scheduler.framework import CycleState, NodeInfo, Status
from lab.kube.scheduler.profile import Framework

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_AVAILABLE = "no nodes available to schedule pods"


@dataclass
class FitError(Exception):
    """No node fits: carries each rejected node's status to build upstream's message."""

    num_all_nodes: int
    statuses: dict[str, Status] = field(default_factory=dict)
    pre_filter_msg: str = ""

    def __str__(self) -> str:
        if self.num_all_nodes == 0:
            return NO_NODES_AVAILABLE
        msg = f"0/{self.num_all_nodes} nodes are available:"
        if self.pre_filter_msg:
            return f"{msg} {self.pre_filter_msg}."
        histogram: Counter[str] = Counter()
        for status in self.statuses.values():
            for reason in status.reasons:
                histogram[reason] += 1
        # upstream sorts the "<count> <reason>" strings lexically (sort.Strings)
        parts = sorted(f"{count} {reason}" for reason, count in histogram.items())
        return f"{msg} {', '.join(parts)}." if parts else msg


def num_feasible_nodes_to_find(num_all: int, percentage: int = 0) -> int:
    """All nodes below 100; else a percentage (adaptive 50 - n/125, at least 5%) but >= 100."""
    if num_all < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all
    pct = percentage
    if pct <= 0:
        pct = max(50 - num_all // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    if pct >= 100:
        return num_all
    return max(num_all * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


class Algorithm:
    """Holds the rotating start index so successive pods spread the filtering work."""

    def __init__(self, percentage_of_nodes_to_score: int = 0, rng: random.Random | None = None) -> None:
        self.percentage = percentage_of_nodes_to_score
        self.rng = rng or random.Random()
        self.next_start = 0

    def find_feasible(self, fwk: Framework, state: CycleState, pod: Obj,
                      nodes: list[NodeInfo]) -> tuple[list[NodeInfo], dict[str, Status]]:
        status = fwk.run_pre_filter(state, pod)
        if not status.is_success:
            if status.is_rejected:
                raise FitError(len(nodes), {n.name: status for n in nodes}, status.message())
            raise RuntimeError(f"prefilter {status.plugin}: {status.message()}")
        want = num_feasible_nodes_to_find(len(nodes), self.percentage)
        feasible: list[NodeInfo] = []
        rejected: dict[str, Status] = {}
        count = len(nodes)
        for i in range(count):
            node = nodes[(self.next_start + i) % count]
            st = fwk.run_filter(state, pod, node)
            if st.is_success:
                feasible.append(node)
                if len(feasible) >= want:
                    break
            elif st.is_rejected:
                rejected[node.name] = st
            else:
                raise RuntimeError(f"filter {st.plugin} on node {node.name}: {st.message()}")
        if count:
            self.next_start = (self.next_start + len(feasible) + len(rejected)) % count
        return feasible, rejected

    def schedule(self, fwk: Framework, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> str:
        """The chosen node's name; raises FitError when none fits."""
        if not nodes:
            raise FitError(0)
        feasible, rejected = self.find_feasible(fwk, state, pod, nodes)
        if not feasible:
            raise FitError(len(nodes), rejected)
        if len(feasible) == 1:
            return feasible[0].name
        status = fwk.run_pre_score(state, pod, feasible)
        if not status.is_success:
            raise RuntimeError(f"prescore {status.plugin}: {status.message()}")
        return self.select_host(fwk.run_score(state, pod, feasible))

    def select_host(self, scores: dict[str, int]) -> str:
        """The highest total; ties broken uniformly at random (reservoir sampling, as upstream)."""
        best, best_score, ties = "", -1, 0
        for name, score in scores.items():
            if score > best_score:
                best, best_score, ties = name, score, 1
            elif score == best_score:
                ties += 1
                if self.rng.randrange(ties) == 0:
                    best = name
        return best
