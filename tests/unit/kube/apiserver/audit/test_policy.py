"""Which level a policy gives a request: the first matching rule wins, every non-empty field
of a rule must match, and a request no rule matches is not audited."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lab.kube.apiserver.audit import Level, PolicyError, load
from lab.kube.apiserver.audit.policy import parse
from lab.kube.apiserver.authz import from_request
from lab.kube.machinery.user import UserInfo

POLICY = parse(yaml.safe_load("""
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources: [{group: "", resources: ["endpoints", "services"]}]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get"]
  - level: Metadata
    resources: [{group: "", resources: ["secrets", "configmaps"]}]
  - level: RequestResponse
    namespaces: ["dev"]
    resources: [{group: "apps", resources: ["deployments", "deployments/scale"], resourceNames: ["web"]}]
  - level: Request
    resources: [{group: "", resources: ["pods/*"]}, {group: "apps", resources: ["*/status"]}]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Request
    namespaces: ["kube-system"]
  - level: Metadata
    omitStages: [ResponseStarted]
"""))

ADMIN = UserInfo("admin", groups=("system:masters", "system:authenticated"))
PROXY = UserInfo("system:kube-proxy", groups=("system:authenticated",))
NODE = UserInfo("system:node:n1", groups=("system:nodes", "system:authenticated"))


@pytest.mark.parametrize(("user", "method", "path", "query", "level"), [
    (PROXY, "GET", "/api/v1/services", {"watch": "1"}, Level.NONE),
    (PROXY, "GET", "/api/v1/services", {}, Level.METADATA),  # a list is not a watch
    (ADMIN, "GET", "/api/v1/services", {"watch": "1"}, Level.METADATA),
    (NODE, "GET", "/api/v1/nodes/n1", {}, Level.NONE),
    (NODE, "PATCH", "/api/v1/nodes/n1", {}, Level.METADATA),
    (ADMIN, "POST", "/api/v1/namespaces/default/secrets", {}, Level.METADATA),
    (ADMIN, "GET", "/apis/apps/v1/namespaces/dev/deployments/web", {}, Level.REQUEST_RESPONSE),
    (ADMIN, "PUT", "/apis/apps/v1/namespaces/dev/deployments/web/scale", {}, Level.REQUEST_RESPONSE),
    (ADMIN, "GET", "/apis/apps/v1/namespaces/dev/deployments/api", {}, Level.METADATA),  # resourceNames
    (ADMIN, "GET", "/apis/apps/v1/namespaces/prod/deployments/web", {}, Level.METADATA),  # namespaces
    (ADMIN, "GET", "/apis/apps/v1/namespaces/dev/deployments/web/status", {}, Level.REQUEST),  # */status
    (ADMIN, "GET", "/api/v1/namespaces/default/pods/p/log", {}, Level.REQUEST),  # pods/*
    (ADMIN, "GET", "/healthz", {}, Level.NONE),
    (ADMIN, "GET", "/healthz/etcd", {}, Level.NONE),  # trailing *
    (ADMIN, "GET", "/version", {}, Level.NONE),
    (ADMIN, "GET", "/version/x", {}, Level.METADATA),  # exact without *
    (ADMIN, "GET", "/api/v1/namespaces/kube-system/pods/p", {}, Level.REQUEST),  # pods/* matches pods
    (ADMIN, "GET", "/api/v1/namespaces/kube-system/leases", {}, Level.REQUEST),  # namespaces only
    (ADMIN, "GET", "/api", {}, Level.METADATA),  # namespaces never match a non-resource URL
])
def test_first_matching_rule_gives_the_level(user: UserInfo, method: str, path: str,
                                             query: dict[str, str], level: Level) -> None:
    got, _ = POLICY.decide(from_request(user, method, path, query))
    assert got is level


def test_omitted_stages_are_the_policys_and_the_rules() -> None:
    _, omitted = POLICY.decide(from_request(ADMIN, "GET", "/api", {}))
    assert omitted == {"RequestReceived", "ResponseStarted"}
    _, omitted = POLICY.decide(from_request(ADMIN, "GET", "/api/v1/namespaces/a/secrets", {}))
    assert omitted == {"RequestReceived"}


def test_no_matching_rule_is_no_audit() -> None:
    policy = parse({"apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                    "rules": [{"level": "Metadata", "users": ["someone"]}]})
    assert policy.decide(from_request(ADMIN, "GET", "/api", {}))[0] is Level.NONE


@pytest.mark.parametrize(("body", "message"), [
    ("kind: Nope", "not an audit.k8s.io/v1 Policy"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []", "loaded illegal policy with 0 rules"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]",
     r"rules\[0\].level: Unsupported value: 'Everything'"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, omitStages: [Later]}]",
     r"rules\[0\].omitStages\[0\]: Unsupported value: 'Later'"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\n"
     "rules: [{level: None, nonResourceURLs: [/x], resources: [{group: ''}]}]",
     "cannot apply to both regular resources and non-resource URLs"),
    ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{resourceNames: [a]}]}]",
     "using resourceNames requires at least one resource"),
    ("{unclosed", "error reading audit policy"),
])
def test_policy_errors_are_one_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(body)
    with pytest.raises(PolicyError, match=message) as info:
        load(path)
    assert "\n" not in str(info.value)
