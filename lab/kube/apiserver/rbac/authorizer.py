"""`--authorization-mode=RBAC` (upstream `plugin/pkg/auth/authorizer/rbac`): every
ClusterRoleBinding, then the RoleBindings of the request's namespace, are resolved to their
roles' rules from the `PolicyCache`; the first rule that allows wins. Nothing allowing is
NO_OPINION (the next mode decides), with the resolution errors as the reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.authz.authorizer import Decision, Verdict
from lab.kube.apiserver.rbac.cache import PolicyCache
from lab.kube.apiserver.rbac.rules import Rule, applies_to, describe_subject, rule_allows
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.user import UserInfo

SYNC_WAIT = 10.0  # seconds a request waits for the first list at startup


@dataclass
class Grant:
    """The rules one binding gives a user, and how to name that in a reason."""

    source: str  # `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`
    rules: list[Rule]


@dataclass
class Resolution:
    grants: list[Grant] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def rules(self) -> list[Rule]:
        return [r for g in self.grants for r in g.rules]


class RuleResolver:
    """The rules a user holds, from the cache (upstream `DefaultRuleResolver`)."""

    def __init__(self, cache: PolicyCache) -> None:
        self.cache = cache

    def role_rules(self, ref: dict[str, str], namespace: str) -> tuple[list[Rule], str | None]:
        """A roleRef's rules, or the lister's not-found message."""
        if ref.get("kind") == "ClusterRole":
            role = self.cache.get(catalog.CLUSTERROLES, "", ref.get("name", ""))
            missing = f'clusterrole.rbac.authorization.k8s.io "{ref.get("name", "")}" not found'
        elif ref.get("kind") == "Role":
            role = self.cache.get(catalog.ROLES, namespace, ref.get("name", ""))
            missing = f'role.rbac.authorization.k8s.io "{ref.get("name", "")}" not found'
        else:
            return [], f'unsupported role reference kind: "{ref.get("kind", "")}"'
        if role is None:
            return [], missing
        return list(role.get("rules") or []), None

    def _bindings(self, namespace: str) -> Iterator[tuple[str, Obj]]:
        for crb in sorted(self.cache.list(catalog.CLUSTERROLEBINDINGS), key=_name):
            yield "ClusterRoleBinding", crb
        if namespace:
            for rb in sorted(self.cache.list(catalog.ROLEBINDINGS, namespace), key=_name):
                yield "RoleBinding", rb

    def resolve(self, user: UserInfo, namespace: str) -> Iterator[Grant | str]:
        """Each binding that applies to `user`, lazily: a Grant, or an error message."""
        for kind, binding in self._bindings(namespace):
            md = binding.get("metadata") or {}
            bns = md.get("namespace", "") if kind == "RoleBinding" else ""
            subject = next((s for s in binding.get("subjects") or [] if applies_to(user, s, bns)), None)
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            rules, err = self.role_rules(ref, bns)
            if err is not None:
                yield err
                continue
            label = f'{md.get("name", "")}/{bns}' if bns else md.get("name", "")
            yield Grant(f'{kind} "{label}" of {ref.get("kind", "")} "{ref.get("name", "")}" to '
                        f"{describe_subject(subject, bns)}", rules)

    def rules_for(self, user: UserInfo, namespace: str) -> Resolution:
        out = Resolution()
        for item in self.resolve(user, namespace):
            (out.errors.append if isinstance(item, str) else out.grants.append)(item)  # type: ignore[arg-type]
        return out


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


class RBACAuthorizer:
    def __init__(self, cache: PolicyCache) -> None:
        self.cache = cache
        self.resolver = RuleResolver(cache)

    async def run(self) -> None:
        """Keep the cache current (the API server runs this with its other loops)."""
        await self.cache.run()

    def synced(self) -> bool:
        return self.cache.synced.is_set()

    async def authorize(self, attrs: Attributes) -> Verdict:
        if not self.cache.synced.is_set():
            try:
                async with asyncio.timeout(SYNC_WAIT):
                    await self.cache.synced.wait()
            except TimeoutError:
                pass  # answer from what is there; the reason says nothing more than upstream's
        errs: list[str] = []
        for item in self.resolver.resolve(attrs.user, attrs.namespace):
            if isinstance(item, str):
                errs.append(item)
            elif any(rule_allows(attrs, r) for r in item.rules):
                return Verdict(Decision.ALLOW, f"RBAC: allowed by {item.source}")
        return Verdict(Decision.NO_OPINION, f"RBAC: {errors.aggregate(errs)}" if errs else "")

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Rule], list[Rule], bool, str]:
        """SelfSubjectRulesReview's view: (resource rules, non-resource rules, incomplete, error)."""
        held = self.resolver.rules_for(user, namespace)
        resource: list[Rule] = []
        non_resource: list[Rule] = []
        for rule in held.rules():
            if rule.get("resources"):
                resource.append({"verbs": list(rule.get("verbs") or []),
                                 "apiGroups": list(rule.get("apiGroups") or []),
                                 "resources": list(rule["resources"]),
                                 "resourceNames": list(rule.get("resourceNames") or [])})
            if rule.get("nonResourceURLs"):
                non_resource.append({"verbs": list(rule.get("verbs") or []),
                                     "nonResourceURLs": list(rule["nonResourceURLs"])})
        return resource, non_resource, False, errors.aggregate(held.errors) if held.errors else ""
