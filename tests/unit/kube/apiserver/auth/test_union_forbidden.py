"""How authorizers combine, and the 403 a denied request gets (upstream's exact text)."""

from __future__ import annotations

from lab.kube.apiserver.authz import AlwaysAllow, AlwaysDeny, Attributes, Decision, Union, Verdict, forbidden
from lab.kube.apiserver.authz.attributes import from_request
from lab.kube.machinery.user import MASTERS, UserInfo


class Says:
    def __init__(self, verdict: Verdict) -> None:
        self.verdict, self.asked = verdict, 0

    async def authorize(self, attrs: Attributes) -> Verdict:
        self.asked += 1
        return self.verdict


async def test_masters_are_allowed_before_any_mode_is_asked() -> None:
    deny = Says(Verdict(Decision.DENY, "no"))
    attrs = from_request(UserInfo("root", groups=(MASTERS,)), "GET", "/api/v1/secrets", {})
    assert (await Union([deny]).authorize(attrs)).allowed
    assert deny.asked == 0


async def test_first_opinion_wins_and_no_opinions_join_their_reasons() -> None:
    attrs = from_request(UserInfo("bob"), "GET", "/api/v1/secrets", {})
    first, second = Says(Verdict(Decision.NO_OPINION, "not a node")), Says(Verdict(Decision.NO_OPINION, "no rbac"))
    verdict = await Union([first, second, AlwaysAllow()]).authorize(attrs)
    assert verdict.allowed and first.asked == second.asked == 1
    verdict = await Union([first, second]).authorize(attrs)
    assert verdict.decision is Decision.NO_OPINION and verdict.reason == "not a node\nno rbac"
    assert not (await Union([AlwaysDeny()]).authorize(attrs)).allowed
    assert not (await Union([]).authorize(attrs)).allowed


def test_forbidden_messages_match_upstream() -> None:
    sa = UserInfo("system:serviceaccount:default:foo")
    err = forbidden(from_request(sa, "GET", "/api/v1/namespaces/default/pods", {}))
    assert err.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
        "message": 'pods is forbidden: User "system:serviceaccount:default:foo" cannot list resource "pods" '
                   'in API group "" in the namespace "default"',
        "details": {"kind": "pods"}, "code": 403}
    err = forbidden(from_request(UserInfo("jane"), "GET", "/apis/apps/v1/namespaces/dev/deployments/web", {}))
    assert err.message == ('deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" '
                           'in API group "apps" in the namespace "dev"')
    assert err.status()["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    err = forbidden(from_request(UserInfo("x"), "POST", "/api/v1/namespaces/default/pods/nginx/exec", {}))
    assert err.message.startswith('pods "nginx" is forbidden: User "x" cannot create resource "pods/exec"')
    err = forbidden(from_request(UserInfo("system:node:w1"), "GET", "/api/v1/nodes/w2", {}),
                    "node 'w1' cannot read 'w2', only its own Node object")
    assert err.message == ('nodes "w2" is forbidden: User "system:node:w1" cannot get resource "nodes" in API group "" '
                           "at the cluster scope: node 'w1' cannot read 'w2', only its own Node object")
    err = forbidden(from_request(UserInfo("system:anonymous"), "GET", "/metrics", {}))
    assert err.message == 'forbidden: User "system:anonymous" cannot get path "/metrics"'
