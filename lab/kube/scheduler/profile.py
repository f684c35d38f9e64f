"""A Framework: one profile's plugin instances and how each extension point runs them.

Filter stops at the first failing plugin on a node; Score multiplies each plugin's
normalized 0..100 score by its weight and sums per node (upstream `frameworkImpl`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.kube.machinery.objects import Obj
from lab.kube.scheduler import config
from lab.kube.scheduler.framework import (
    MAX_NODE_SCORE,
    SUCCESS,
    CycleState,
    NodeInfo,
    QueuedPodInfo,
    ScoreExtensions,
    Status,
    error,
)
from lab.kube.scheduler.plugins import REGISTRY, Factory

# which method a plugin must have to serve an extension point
_METHODS = {"queueSort": "less", "preFilter": "pre_filter", "filter": "filter", "postFilter": "post_filter",
            "preScore": "pre_score", "score": "score", "reserve": "reserve", "bind": "bind"}


class Framework:
    """The runnable form of a `ProfileConfig`."""

    def __init__(self, profile: config.ProfileConfig, handle: Any,
                 registry: dict[str, Factory] | None = None) -> None:
        self.scheduler_name = profile.scheduler_name
        registry = registry or REGISTRY
        instances: dict[str, Any] = {}
        self.points: dict[str, list[Any]] = {}
        self.weights: dict[str, int] = {}
        for point, plugins in profile.plugins.items():
            self.points[point] = []
            for name, weight in plugins:
                if name not in registry:
                    raise config.ConfigError(f"{point}: plugin {name!r} does not exist")
                if name not in instances:
                    instances[name] = registry[name](profile.plugin_args.get(name), handle)
                plugin = instances[name]
                if not hasattr(plugin, _METHODS[point]):
                    raise config.ConfigError(f"plugin {name!r} does not extend {point}")
                self.points[point].append(plugin)
                if point == "score":
                    self.weights[name] = weight
        if len(self.points.get("queueSort", [])) != 1:
            raise config.ConfigError("exactly one queueSort plugin must be enabled")
        if not self.points.get("bind"):
            raise config.ConfigError("at least one bind plugin is needed")

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return bool(self.points["queueSort"][0].less(a, b))

    def _until_failure(self, point: str, call: Callable[[Any], Status]) -> Status:
        """Run `point`'s plugins in order; the first non-success status, marked with its plugin, wins."""
        for p in self.points[point]:
            status = call(p)
            if not status.is_success:
                status.plugin = p.name
                return status
        return SUCCESS

    def run_pre_filter(self, state: CycleState, pod: Obj) -> Status:
        return self._until_failure("preFilter", lambda p: p.pre_filter(state, pod))

    def run_filter(self, state: CycleState, pod: Obj, node_info: NodeInfo) -> Status:
        return self._until_failure("filter", lambda p: p.filter(state, pod, node_info))

    def run_pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        return self._until_failure("preScore", lambda p: p.pre_score(state, pod, nodes))

    def run_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> dict[str, int]:
        """Total weighted score per node name (raises on a plugin error)."""
        totals = {n.name: 0 for n in nodes}
        for p in self.points["score"]:
            scores: dict[str, int] = {}
            for n in nodes:
                s, status = p.score(state, pod, n)
                if not status.is_success:
                    raise RuntimeError(f"plugin {p.name} failed to score node {n.name}: {status.message()}")
                scores[n.name] = s
            if isinstance(p, ScoreExtensions):
                p.normalize_score(state, pod, scores)
            for name, s in scores.items():
                if not 0 <= s <= MAX_NODE_SCORE:
                    raise RuntimeError(f"plugin {p.name} returned an invalid score {s} for node {name}")
                totals[name] += s * self.weights.get(p.name, 1)
        return totals

    def run_reserve(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        return self._until_failure("reserve", lambda p: p.reserve(state, pod, node_name))

    def run_unreserve(self, state: CycleState, pod: Obj, node_name: str) -> None:
        for p in reversed(self.points["reserve"]):
            p.unreserve(state, pod, node_name)

    async def run_bind(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        for p in self.points["bind"]:
            status: Status = await p.bind(state, pod, node_name)
            if status.code.name == "SKIP":
                continue
            status.plugin = p.name
            return status
        return error("no bind plugin bound the pod")
