"""Rule matching as upstream `RuleAllows`: verbs, groups, `resource/sub`, `*/sub`,
resourceNames, nonResourceURLs with a trailing `*`."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.rbac.rules import applies_to, rule_allows
from lab.kube.machinery.user import UserInfo

JANE = UserInfo("jane", groups=("devs",))


def res(verb: str, resource: str, sub: str = "", name: str = "", group: str = "") -> Attributes:
    return Attributes(JANE, verb, True, namespace="default", api_group=group, resource=resource,
                      subresource=sub, name=name)


def path(verb: str, p: str) -> Attributes:
    return Attributes(JANE, verb, False, path=p)


def rule(verbs: list[str], resources: list[str] | None = None, groups: list[str] | None = None,
         names: list[str] | None = None, urls: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": verbs}
    if urls is not None:
        out["nonResourceURLs"] = urls
    else:
        out["apiGroups"] = groups if groups is not None else [""]
        out["resources"] = resources or []
    if names:
        out["resourceNames"] = names
    return out


CASES = [
    ("exact verb and resource", rule(["get"], ["pods"]), res("get", "pods", name="a"), True),
    ("other verb", rule(["get"], ["pods"]), res("delete", "pods", name="a"), False),
    ("verb *", rule(["*"], ["pods"]), res("deletecollection", "pods"), True),
    ("other group", rule(["get"], ["deployments"]), res("get", "deployments", group="apps"), False),
    ("group *", rule(["get"], ["deployments"], ["*"]), res("get", "deployments", group="apps"), True),
    ("resource *", rule(["get"], ["*"], ["apps"]), res("get", "replicasets", group="apps"), True),
    ("pods does not cover pods/log", rule(["get"], ["pods"]), res("get", "pods", "log", "a"), False),
    ("pods/log", rule(["get"], ["pods/log"]), res("get", "pods", "log", "a"), True),
    ("*/scale covers any scale", rule(["get"], ["*/scale"], ["apps"]),
     res("get", "deployments", "scale", "w", "apps"), True),
    ("*/scale is not the main resource", rule(["get"], ["*/scale"], ["apps"]),
     res("get", "deployments", "", "w", "apps"), False),
    ("pods/* is literal", rule(["get"], ["pods/*"]), res("get", "pods", "log", "a"), False),
    ("resource * covers subresources", rule(["get"], ["*"]), res("get", "pods", "log", "a"), True),
    ("listed name", rule(["get"], ["configmaps"], names=["x"]), res("get", "configmaps", name="x"), True),
    ("other name", rule(["get"], ["configmaps"], names=["x"]), res("get", "configmaps", name="y"), False),
    ("list never matches a named rule", rule(["list"], ["configmaps"], names=["x"]),
     res("list", "configmaps"), False),
    ("exact url", rule(["get"], urls=["/healthz"]), path("get", "/healthz"), True),
    ("url is exact", rule(["get"], urls=["/healthz"]), path("get", "/healthz/etcd"), False),
    ("url prefix *", rule(["get"], urls=["/api/*"]), path("get", "/api/v1"), True),
    ("prefix * needs the slash", rule(["get"], urls=["/api/*"]), path("get", "/api"), False),
    ("url *", rule(["get"], urls=["*"]), path("get", "/metrics"), True),
    ("url verb", rule(["get"], urls=["/metrics"]), path("post", "/metrics"), False),
    ("resource rule never matches a path", rule(["*"], ["*"], ["*"]), path("get", "/healthz"), False),
    ("url rule never matches a resource", rule(["*"], urls=["*"]), res("get", "pods", name="a"), False),
]


@pytest.mark.parametrize(("rule_", "attrs", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_matching(rule_: dict[str, Any], attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(attrs, rule_) is allowed


def test_subjects() -> None:
    sa = UserInfo("system:serviceaccount:dev:builder")
    assert applies_to(JANE, {"kind": "User", "name": "jane"}, "")
    assert not applies_to(JANE, {"kind": "User", "name": "devs"}, "")
    assert applies_to(JANE, {"kind": "Group", "name": "devs"}, "")
    assert applies_to(sa, {"kind": "ServiceAccount", "name": "builder"}, "dev")  # the binding's namespace
    assert applies_to(sa, {"kind": "ServiceAccount", "name": "builder", "namespace": "dev"}, "")
    assert not applies_to(sa, {"kind": "ServiceAccount", "name": "builder"}, "")  # CRB without a namespace
    assert not applies_to(sa, {"kind": "ServiceAccount", "name": "builder"}, "prod")
