"""Escalation and bind checks (upstream `escalation_check.go`, `policy_comparator.go`)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.admission.chain import AdmissionRequest, Operation
from lab.kube.apiserver.authz.authorizer import Union
from lab.kube.apiserver.rbac import EscalationCheck, PolicyCache, RBACAuthorizer
from lab.kube.apiserver.rbac import policy as p
from lab.kube.apiserver.rbac.escalation import compact_string, uncovered
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.user import AUTHENTICATED, MASTERS, UserInfo

JANE = UserInfo("jane", groups=("devs", AUTHENTICATED))


def test_covering_breaks_rules_into_atoms() -> None:
    owner = [p.r(["get", "list"], [""], ["pods"]), p.r(["*"], ["apps"], ["*/scale"]),
             p.r(["get"], [""], ["configmaps"], ["x"]), p.urls(["get"], ["/api/*"])]
    assert uncovered(owner, [p.r(["get"], [""], ["pods"])]) == []
    assert uncovered(owner, [p.r(["update"], ["apps"], ["deployments/scale"])]) == []
    assert uncovered(owner, [p.r(["get"], [""], ["configmaps"], ["x"])]) == []
    assert uncovered(owner, [p.r(["get"], [""], ["configmaps"])]) != []  # a named owner rule: not all names
    assert uncovered(owner, [p.urls(["get"], ["/api/v1"])]) == []
    assert uncovered(owner, [p.r(["get", "delete"], ["", "apps"], ["pods"])]) == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
        {"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["pods"], "verbs": ["delete"]}]


def test_compact_string_is_gos() -> None:
    assert compact_string({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["delete", "get"]}) \
        == '{APIGroups:["apps"], Resources:["deployments"], Verbs:["delete" "get"]}'
    assert compact_string({"nonResourceURLs": ["/metrics"], "verbs": ["get"]}) == \
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}'


class Policy:
    """A registry-backed world: the check reads bindings from the cache and roles from storage."""

    def __init__(self, api: InMemoryAPI) -> None:
        self.api = api
        self.cache = PolicyCache()
        self.cache.synced.set()
        rbac = RBACAuthorizer(self.cache)
        self.check = EscalationCheck(Union([rbac]), rbac.resolver, api.server.context.registries)  # type: ignore[union-attr]

    async def add(self, res: catalog.Resource, obj: dict[str, Any]) -> None:
        self.cache.put(res, await self.api.seed(res, obj))

    async def admit(self, res: catalog.Resource, obj: dict[str, Any], user: UserInfo = JANE,
                    old: dict[str, Any] | None = None) -> None:
        md = obj["metadata"]
        await self.check.admit(AdmissionRequest(Operation.UPDATE if old else Operation.CREATE, res,
                                                md.get("namespace", ""), md["name"], "", user, obj, old))


@pytest.fixture
async def world() -> Any:
    async with InMemoryAPI() as api:
        policy = Policy(api)
        await policy.add(catalog.ROLES, p.role("writer", "default", [
            p.r(["get", "list"], [""], ["pods"]),
            p.r(["create", "update"], [p.GROUP], ["roles", "rolebindings"])]))
        await policy.add(catalog.ROLEBINDINGS, p.role_binding("jane-writes", "default", "writer",
                                                              [p.user("jane")]))
        yield policy


async def test_a_role_within_the_writers_rights_passes(world: Policy) -> None:
    await world.admit(catalog.ROLES, p.role("subset", "default", [p.r(["get"], [""], ["pods"])]))


async def test_a_role_beyond_the_writers_rights_is_forbidden_with_upstreams_message(world: Policy) -> None:
    role = p.role("more", "default", [p.r(["delete", "get"], ["apps"], ["deployments"]),
                                      p.r(["get"], [""], ["pods"])])
    with pytest.raises(errors.Forbidden) as caught:
        await world.admit(catalog.ROLES, role)
    assert caught.value.message == (
        'roles.rbac.authorization.k8s.io "more" is forbidden: user "jane" (groups=["devs" '
        '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:["apps"], Resources:["deployments"], Verbs:["delete" "get"]}')


async def test_escalate_lets_a_writer_grant_more_and_masters_always_may(world: Policy) -> None:
    role = p.role("more", "default", [p.r(["delete"], ["apps"], ["deployments"])])
    await world.admit(catalog.ROLES, role, UserInfo("root", groups=(MASTERS,)))
    await world.add(catalog.ROLES, p.role("escalator", "default", [p.r(["escalate"], [p.GROUP], ["roles"])]))
    await world.add(catalog.ROLEBINDINGS, p.role_binding("jane-escalates", "default", "escalator",
                                                         [p.user("jane")]))
    await world.admit(catalog.ROLES, role)


async def test_a_binding_needs_the_roles_rights_or_bind(world: Policy) -> None:
    await world.add(catalog.ROLES, p.role("deleter", "default", [p.r(["delete"], [""], ["pods"])]))
    binding = p.role_binding("to-deleter", "default", "deleter", [p.user("bob")])
    with pytest.raises(errors.Forbidden) as caught:
        await world.admit(catalog.ROLEBINDINGS, binding)
    assert caught.value.message.startswith(
        'rolebindings.rbac.authorization.k8s.io "to-deleter" is forbidden: user "jane" (groups=["devs" '
        '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}')
    # escalate is not bind
    await world.add(catalog.ROLES, p.role("escalator", "default", [p.r(["escalate"], [p.GROUP], ["roles"])]))
    await world.add(catalog.ROLEBINDINGS, p.role_binding("jane-escalates", "default", "escalator",
                                                         [p.user("jane")]))
    with pytest.raises(errors.Forbidden):
        await world.admit(catalog.ROLEBINDINGS, binding)
    await world.add(catalog.ROLES, p.role("binder", "default", [
        p.r(["bind"], [p.GROUP], ["roles"], ["deleter"])]))
    await world.add(catalog.ROLEBINDINGS, p.role_binding("jane-binds", "default", "binder", [p.user("jane")]))
    await world.admit(catalog.ROLEBINDINGS, binding)


async def test_a_binding_to_a_missing_role_is_not_found(world: Policy) -> None:
    with pytest.raises(errors.NotFound) as caught:
        await world.admit(catalog.ROLEBINDINGS, p.role_binding("b", "default", "ghost", [p.user("bob")]))
    assert caught.value.message == 'roles.rbac.authorization.k8s.io "ghost" not found'


async def test_an_aggregation_rule_needs_cluster_admin(world: Policy) -> None:
    await world.add(catalog.CLUSTERROLES, p.cluster_role("role-writer", [
        p.r(["create", "update"], [p.GROUP], ["clusterroles"])]))
    await world.add(catalog.CLUSTERROLEBINDINGS, p.cluster_role_binding("jane-cr", "role-writer",
                                                                        [p.user("jane")]))
    aggregating = p.cluster_role("agg", [], aggregate_from="view")
    with pytest.raises(errors.Forbidden) as caught:
        await world.admit(catalog.CLUSTERROLES, aggregating)
    assert caught.value.message == ('clusterroles.rbac.authorization.k8s.io "agg" is forbidden: '
                                    "must have cluster-admin privileges to use the aggregationRule")
