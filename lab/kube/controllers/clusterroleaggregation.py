"""ClusterRole aggregation controller (upstream `pkg/controller/clusterroleaggregation`):
a ClusterRole with an `aggregationRule` gets, as its `rules`, the rules of every ClusterRole
its label selectors pick, in name order, duplicates dropped. Any ClusterRole change enqueues
every aggregating role; only `rules` is written."""

from __future__ import annotations

import copy
import logging
from typing import Any

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import SharedInformers
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)


def aggregated_rules(role: Obj, cluster_roles: list[Obj]) -> list[dict[str, Any]]:
    """The rules `role`'s aggregationRule collects from `cluster_roles`."""
    rules: list[dict[str, Any]] = []
    by_name = sorted(cluster_roles, key=meta.name)
    for selector in (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []:
        chosen = LabelSelector.from_object(selector)
        for other in by_name:
            if meta.name(other) == meta.name(role) or not chosen.matches(meta.labels(other)):
                continue
            for rule in other.get("rules") or []:
                if rule not in rules:
                    rules.append(copy.deepcopy(rule))
    return rules


class ClusterRoleAggregationController:
    name = "clusterrole-aggregation"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.roles = informers.get(catalog.CLUSTERROLES)
        self.queue = WorkQueue("clusterrole-aggregation")

        def enqueue_aggregating(_: Obj) -> None:
            for role in self.roles.store.list():
                if role.get("aggregationRule"):
                    self.queue.add(meta.name(role))

        self.roles.add_handler(enqueue_aggregating, lambda old, new: enqueue_aggregating(new),
                               enqueue_aggregating)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        role = self.roles.store.get(key)
        if role is None or not role.get("aggregationRule"):
            return
        rules = aggregated_rules(role, self.roles.store.list())
        if rules == (role.get("rules") or []):
            return
        updated = copy.deepcopy(role)
        updated["rules"] = rules
        await self.client.update(catalog.CLUSTERROLES, updated)
        log.info("aggregated %d rules into clusterrole %s", len(rules), key)
