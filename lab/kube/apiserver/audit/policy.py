"""`--audit-policy-file`: an audit.k8s.io/v1 Policy and which level (and omitted stages) it
gives a request (upstream `audit/policy/checker.go`): rules are tried in order, the first
that matches wins, and a request no rule matches is not audited."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import yaml

from lab.kube.apiserver.authz.attributes import Attributes

API_VERSIONS = ("audit.k8s.io/v1",)
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


class Level(IntEnum):
    """Ordered, so `level >= Level.Request` reads as upstream's `!level.Less(LevelRequest)`."""

    NONE = 0
    METADATA = 1
    REQUEST = 2
    REQUEST_RESPONSE = 3

    @property
    def wire(self) -> str:
        return _WIRE[self]

    @classmethod
    def parse(cls, name: Any, where: str) -> Level:
        for level, wire in _WIRE.items():
            if name == wire:
                return level
        raise PolicyError(f"{where}.level: Unsupported value: {name!r}: supported values: "
                          f"{', '.join(repr(w) for w in _WIRE.values())}")


_WIRE = {Level.NONE: "None", Level.METADATA: "Metadata", Level.REQUEST: "Request",
         Level.REQUEST_RESPONSE: "RequestResponse"}


class PolicyError(ValueError):
    """The policy file cannot be used; one line naming the field."""


@dataclass(frozen=True)
class GroupResources:
    group: str = ""
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()

    def matches(self, attrs: Attributes) -> bool:
        if self.group != attrs.api_group:
            return False
        if not self.resources:
            return True
        if self.resource_names and attrs.name not in self.resource_names:
            return False
        combined, sub = attrs.resource_and_sub, attrs.subresource
        return any(res in (combined, "*")
                   or (sub and res.startswith("*/") and res[2:] == sub)
                   or (res.endswith("/*") and res[:-2] == attrs.resource)
                   for res in self.resources)


@dataclass(frozen=True)
class Rule:
    level: Level
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: frozenset[str] = frozenset()

    def matches(self, attrs: Attributes) -> bool:
        if self.users and attrs.user.name not in self.users:
            return False
        if self.user_groups and not set(self.user_groups) & set(attrs.user.groups):
            return False
        if self.verbs and attrs.verb not in self.verbs:
            return False
        if self.namespaces or self.resources:
            return attrs.resource_request and self._matches_resource(attrs)
        if self.non_resource_urls:
            return not attrs.resource_request and any(_url_matches(u, attrs.path) for u in self.non_resource_urls)
        return True

    def _matches_resource(self, attrs: Attributes) -> bool:
        if self.namespaces and attrs.namespace not in self.namespaces:
            return False
        return not self.resources or any(gr.matches(attrs) for gr in self.resources)


def _url_matches(pattern: str, path: str) -> bool:
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    omit_stages: frozenset[str] = frozenset()

    def decide(self, attrs: Attributes) -> tuple[Level, frozenset[str]]:
        """The level of the first matching rule and the stages not to record."""
        for rule in self.rules:
            if rule.matches(attrs):
                return rule.level, self.omit_stages | rule.omit_stages
        return Level.NONE, self.omit_stages


def load(path: str | Path) -> Policy:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"error reading audit policy {path}: {' '.join(str(exc).split())}") from exc
    try:
        return parse(doc)
    except PolicyError as exc:
        raise PolicyError(f"audit policy {path}: {exc}") from None


def parse(doc: Any) -> Policy:
    if not isinstance(doc, dict) or doc.get("kind") != "Policy" or doc.get("apiVersion") not in API_VERSIONS:
        got = (doc.get("kind"), doc.get("apiVersion")) if isinstance(doc, dict) else doc
        raise PolicyError(f"not an audit.k8s.io/v1 Policy (got {got!r})")
    rules = doc.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("loaded illegal policy with 0 rules")  # upstream refuses it too
    return Policy(tuple(_rule(r, f"rules[{i}]") for i, r in enumerate(rules)),
                  _stages(doc.get("omitStages"), "omitStages"))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: must be a list of strings")
    return tuple(value)


def _stages(value: Any, where: str) -> frozenset[str]:
    stages = _strings(value, where)
    for i, stage in enumerate(stages):
        if stage not in STAGES:
            raise PolicyError(f"{where}[{i}]: Unsupported value: {stage!r}")
    return frozenset(stages)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise PolicyError(f"{where}: must be an object")
    resources = item.get("resources") or []
    if not isinstance(resources, list):
        raise PolicyError(f"{where}.resources: must be a list")
    urls = _strings(item.get("nonResourceURLs"), f"{where}.nonResourceURLs")
    if urls and (resources or item.get("namespaces")):
        raise PolicyError(f"{where}.nonResourceURLs: Invalid value: rules cannot apply to both "
                          "regular resources and non-resource URLs")
    groups = []
    for j, gr in enumerate(resources):
        at = f"{where}.resources[{j}]"
        if not isinstance(gr, dict):
            raise PolicyError(f"{at}: must be an object")
        names = _strings(gr.get("resourceNames"), f"{at}.resourceNames")
        plural = _strings(gr.get("resources"), f"{at}.resources")
        if names and not plural:
            raise PolicyError(f"{at}.resourceNames: Invalid value: using resourceNames requires at "
                              "least one resource")
        groups.append(GroupResources(str(gr.get("group") or ""), plural, names))
    return Rule(Level.parse(item.get("level"), where),
                _strings(item.get("users"), f"{where}.users"),
                _strings(item.get("userGroups"), f"{where}.userGroups"),
                _strings(item.get("verbs"), f"{where}.verbs"),
                tuple(groups),
                _strings(item.get("namespaces"), f"{where}.namespaces"),
                urls,
                _stages(item.get("omitStages"), f"{where}.omitStages"))
