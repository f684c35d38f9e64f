"""The RBAC authorizer over a seeded cache: what each binding allows and the reasons."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.authz.authorizer import Decision, Union, forbidden
from lab.kube.apiserver.rbac import PolicyCache, RBACAuthorizer
from lab.kube.apiserver.rbac import policy as p
from lab.kube.machinery import catalog
from lab.kube.machinery.user import AUTHENTICATED, UNAUTHENTICATED, UserInfo

JANE = UserInfo("jane", groups=("devs", AUTHENTICATED))


def seeded(*objs: tuple[catalog.Resource, dict[str, Any]]) -> RBACAuthorizer:
    cache = PolicyCache()
    for res, obj in objs:
        cache.put(res, obj)
    cache.synced.set()
    return RBACAuthorizer(cache)


def pods(verb: str, ns: str = "default", user: UserInfo = JANE) -> Attributes:
    return Attributes(user, verb, True, namespace=ns, api_version="v1", resource="pods")


READER = p.role("pod-reader", "default", [p.r(["get", "list"], [""], ["pods"])])
BOUND = p.role_binding("jane-reads", "default", "pod-reader", [p.user("jane")])


async def test_a_role_binding_allows_its_rules_in_its_namespace_only() -> None:
    authz = seeded((catalog.ROLES, READER), (catalog.ROLEBINDINGS, BOUND))
    verdict = await authz.authorize(pods("list"))
    assert verdict.decision is Decision.ALLOW
    assert verdict.reason == ('RBAC: allowed by RoleBinding "jane-reads/default" of Role "pod-reader" '
                              'to User "jane"')
    assert (await authz.authorize(pods("delete"))).decision is Decision.NO_OPINION
    assert (await authz.authorize(pods("list", "kube-system"))).decision is Decision.NO_OPINION
    assert (await authz.authorize(pods("list", ""))).decision is Decision.NO_OPINION


async def test_a_role_binding_to_a_cluster_role_is_scoped_to_the_binding_namespace() -> None:
    view = p.cluster_role("reader", [p.r(["get", "list"], [""], ["pods"])])
    rb = {**p.role_binding("rb", "dev", "reader", [p.group("devs")]),
          "roleRef": {"apiGroup": p.GROUP, "kind": "ClusterRole", "name": "reader"}}
    authz = seeded((catalog.CLUSTERROLES, view), (catalog.ROLEBINDINGS, rb))
    assert (await authz.authorize(pods("list", "dev"))).reason == \
        'RBAC: allowed by RoleBinding "rb/dev" of ClusterRole "reader" to Group "devs"'
    assert not (await authz.authorize(pods("list", "default"))).allowed


async def test_cluster_role_bindings_and_service_account_reasons() -> None:
    sa = UserInfo("system:serviceaccount:kube-system:builder", groups=(AUTHENTICATED,))
    crb = p.cluster_role_binding("builders", "cluster-admin", [p.service_account("kube-system", "builder")])
    authz = seeded((catalog.CLUSTERROLES, p.cluster_roles()[0]), (catalog.CLUSTERROLEBINDINGS, crb))
    verdict = await authz.authorize(pods("delete", "anywhere", sa))
    assert verdict.reason == ('RBAC: allowed by ClusterRoleBinding "builders" of ClusterRole "cluster-admin" '
                              'to ServiceAccount "builder/kube-system"')


async def test_nothing_allowing_is_no_opinion_with_no_reason_or_the_resolution_errors() -> None:
    authz = seeded()
    verdict = await authz.authorize(pods("list"))
    assert verdict == verdict.__class__(Decision.NO_OPINION, "")
    authz = seeded((catalog.ROLEBINDINGS, BOUND))  # its Role is missing
    verdict = await authz.authorize(pods("list"))
    assert verdict.reason == 'RBAC: role.rbac.authorization.k8s.io "pod-reader" not found'
    assert forbidden(pods("list"), verdict.reason).message == (
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace '
        '"default": RBAC: role.rbac.authorization.k8s.io "pod-reader" not found')


@pytest.fixture
def bootstrap_policy() -> RBACAuthorizer:
    return seeded(*[(catalog.CLUSTERROLES, o) for o in p.cluster_roles()],
                  *[(catalog.CLUSTERROLEBINDINGS, o) for o in p.cluster_role_bindings()],
                  *[(catalog.ROLES, o) for o in p.roles()],
                  *[(catalog.ROLEBINDINGS, o) for o in p.role_bindings()])


async def test_bootstrap_policy_for_anonymous_and_authenticated(bootstrap_policy: RBACAuthorizer) -> None:
    anonymous = UserInfo("system:anonymous", groups=(UNAUTHENTICATED,))
    union = Union([bootstrap_policy])
    assert (await union.authorize(Attributes(anonymous, "get", False, path="/healthz"))).allowed
    assert not (await union.authorize(Attributes(anonymous, "get", False, path="/api"))).allowed
    assert (await union.authorize(Attributes(JANE, "get", False, path="/apis/apps/v1"))).allowed
    ssar = Attributes(JANE, "create", True, api_group="authorization.k8s.io", api_version="v1",
                      resource="selfsubjectaccessreviews")
    assert (await union.authorize(ssar)).allowed
    assert not (await union.authorize(pods("list"))).allowed


@pytest.mark.parametrize(("verb", "group", "resource", "sub", "ns", "name"), [
    ("create", "apps", "replicasets", "", "default", ""),             # deployment controller
    ("patch", "apps", "deployments", "status", "default", "web"),
    ("patch", "apps", "replicasets", "status", "default", "web-1"),     # replicaset controller
    ("create", "", "pods", "", "default", ""),
    ("delete", "", "endpoints", "", "default", "web"),                 # endpoints controller
    ("update", "discovery.k8s.io", "endpointslices", "", "default", "web-abc"),
    ("patch", "", "nodes", "", "", "w1"),                              # nodeipam
    ("delete", "apps", "replicasets", "", "default", "old"),           # garbage collector
    ("update", "rbac.authorization.k8s.io", "clusterroles", "", "", "admin"),  # aggregation
    ("create", "", "serviceaccounts", "", "default", ""),
    ("update", "", "configmaps", "", "default", "kube-root-ca.crt"),   # root-ca-cert-publisher
    ("update", "coordination.k8s.io", "leases", "", "kube-system", "kube-controller-manager"),
    ("watch", "apps", "deployments", "", "", ""),
])
async def test_the_controller_manager_may_do_what_our_controllers_do(
        bootstrap_policy: RBACAuthorizer, verb: str, group: str, resource: str, sub: str, ns: str,
        name: str) -> None:
    kcm = UserInfo("system:kube-controller-manager", groups=(AUTHENTICATED,))
    attrs = Attributes(kcm, verb, True, namespace=ns, api_group=group, api_version="v1",
                       resource=resource, subresource=sub, name=name)
    assert (await bootstrap_policy.authorize(attrs)).allowed


@pytest.mark.parametrize(("user", "verb", "resource", "sub", "ns", "name", "allowed"), [
    ("system:kube-scheduler", "create", "pods", "binding", "default", "web", True),
    ("system:kube-scheduler", "update", "leases", "", "kube-system", "kube-scheduler", True),
    ("system:kube-scheduler", "update", "leases", "", "kube-system", "kube-controller-manager", False),
    ("system:kube-scheduler", "delete", "nodes", "", "", "w1", False),
    ("system:kube-proxy", "watch", "endpointslices", "", "", "", True),
    ("system:kube-proxy", "create", "services", "", "default", "", False),
])
async def test_scheduler_and_proxy(bootstrap_policy: RBACAuthorizer, user: str, verb: str, resource: str,
                                   sub: str, ns: str, name: str, allowed: bool) -> None:
    group = {"leases": "coordination.k8s.io", "endpointslices": "discovery.k8s.io"}.get(resource, "")
    attrs = Attributes(UserInfo(user, groups=(AUTHENTICATED,)), verb, True, namespace=ns, api_group=group,
                       api_version="v1", resource=resource, subresource=sub, name=name)
    assert (await bootstrap_policy.authorize(attrs)).allowed is allowed


async def test_the_labs_admins_are_cluster_admins(bootstrap_policy: RBACAuthorizer) -> None:
    """kubeadm's kubernetes-admin and kube-apiserver-kubelet-client are in kubeadm:cluster-admins."""
    for name in ("kubernetes-admin", "kube-apiserver-kubelet-client"):
        user = UserInfo(name, groups=("kubeadm:cluster-admins", AUTHENTICATED))
        attrs = Attributes(user, "get", True, api_version="v1", resource="nodes", subresource="proxy", name="w1")
        assert (await bootstrap_policy.authorize(attrs)).reason == (
            'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" '
            'to Group "kubeadm:cluster-admins"')
