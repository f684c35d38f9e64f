"""The clusterrole-aggregation controller fills aggregating ClusterRoles' rules."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.rbac import policy as p
from lab.kube.controllers.clusterroleaggregation import ClusterRoleAggregationController, aggregated_rules
from lab.kube.machinery import catalog
from tests.support import eventually
from tests.unit.kube.controllers.harness import running

SELECT = "example.com/aggregate-to-monitoring"


def test_rules_are_collected_in_name_order_without_duplicates_or_self() -> None:
    agg = p.cluster_role("monitoring", [], {SELECT: "true"})
    agg["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {SELECT: "true"}}]}
    b = p.cluster_role("b", [p.r(["get"], [""], ["pods"]), p.r(["list"], [""], ["nodes"])], {SELECT: "true"})
    a = p.cluster_role("a", [p.r(["list"], [""], ["nodes"])], {SELECT: "true"})
    other = p.cluster_role("c", [p.r(["*"], ["*"], ["*"])])
    assert aggregated_rules(agg, [b, other, agg, a]) == [p.r(["list"], [""], ["nodes"]),
                                                         p.r(["get"], [""], ["pods"])]


async def test_the_default_admin_edit_view_chain_and_a_new_label() -> None:
    async with running(ClusterRoleAggregationController) as (api, _):
        async def rules(name: str) -> list[dict[str, Any]]:
            role = await api.object(catalog.CLUSTERROLES, name)
            return list((role or {}).get("rules") or [])

        async def chain() -> tuple[list[dict[str, Any]], ...] | None:
            view, edit, admin = await rules("view"), await rules("edit"), await rules("admin")
            nested = view and all(r in edit for r in view) and all(r in admin for r in edit)
            return (view, edit, admin) if nested and len(view) < len(edit) < len(admin) else None

        # edit aggregates view and admin aggregates edit: the chain settles in a few passes
        view, _, _ = await eventually(chain, 5, "admin ⊇ edit ⊇ view")
        assert p.r(["get", "list", "watch"], [p.DISCOVERY], ["endpointslices"]) in view
        assert not any("secrets" in r.get("resources", []) for r in view)

        extra = p.r(["get"], ["example.com"], ["widgets"])
        await api.seed(catalog.CLUSTERROLES, p.cluster_role("widgets-view", [extra],
                                                           {f"{p.AGGREGATE}view": "true"}))
        await eventually(lambda: _contains(rules("view"), extra), 5, "the new rule in view")
        await eventually(lambda: _contains(rules("admin"), extra), 5, "and through edit into admin")


async def _contains(rules: Any, rule: dict[str, Any]) -> bool:
    return rule in await rules
