"""How one PolicyRule matches a request and how subjects match a user (upstream
`rbac.go RuleAllows`, `pkg/apis/rbac/v1/evaluation_helpers.go`, `validation/rule.go
appliesToUser`). Pure functions over the plain-dict API shapes."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.machinery.user import SERVICE_ACCOUNT_PREFIX, UserInfo

Rule = dict[str, Any]
ALL = "*"


def _has(values: list[str] | None, value: str) -> bool:
    return bool(values) and (ALL in values or value in values)  # type: ignore[operator]


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    """`*`, the exact `resource[/sub]`, or `*/sub` for any resource's subresource."""
    for r in rule.get("resources") or []:
        if r == ALL or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    """No names means every name; a request without a name never matches a named rule."""
    names = rule.get("resourceNames") or []
    return not names or name in names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url == ALL or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Rule) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if attrs.resource_request:
        return (_has(rule.get("apiGroups"), attrs.api_group)
                and resource_matches(rule, attrs.resource_and_sub, attrs.subresource)
                and resource_name_matches(rule, attrs.name))
    return non_resource_url_matches(rule, attrs.path)


def applies_to(user: UserInfo, subject: dict[str, Any], namespace: str) -> bool:
    """Whether a binding's subject is `user`; a ServiceAccount subject without a namespace
    takes the binding's."""
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return bool(user.name == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return bool(ns) and user.name == f"{SERVICE_ACCOUNT_PREFIX}{ns}:{name}"
    return False


def describe_subject(subject: dict[str, Any], binding_namespace: str) -> str:
    kind, name = subject.get("kind", ""), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'
