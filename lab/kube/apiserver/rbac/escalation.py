"""No privilege escalation through the RBAC API (upstream `pkg/registry/rbac/escalation_check.go`,
the `policybased` storages and `validation/policy_comparator.go`).

A Role or ClusterRole may only hold rules its writer holds (or the writer may `escalate`);
a binding may only point at a role whose rules its writer holds (or the writer may `bind`).
Run as an admission step on every RBAC write, so a request with no user (the server's own
bootstrap, in-process callers) and `system:masters` pass untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab.kube.apiserver.admission.chain import AdmissionRequest, Operation
from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.authz.authorizer import Authorizer
from lab.kube.apiserver.rbac.authorizer import RuleResolver
from lab.kube.apiserver.rbac.rules import ALL, Rule
from lab.kube.apiserver.registry import Registry
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.user import MASTERS, UserInfo

GROUP = "rbac.authorization.k8s.io"
FULL_AUTHORITY: list[Rule] = [{"verbs": [ALL], "apiGroups": [ALL], "resources": [ALL]},
                              {"verbs": [ALL], "nonResourceURLs": [ALL]}]
_ROLE_KINDS = {catalog.ROLES, catalog.CLUSTERROLES}
_BINDING_KINDS = {catalog.ROLEBINDINGS, catalog.CLUSTERROLEBINDINGS}


# --- covering (policy_comparator.go) ---------------------------------------------------------
def breakdown(rule: Rule) -> list[Rule]:
    """One rule per (group, resource, verb[, name]) or (url, verb)."""
    out: list[Rule] = []
    for group in rule.get("apiGroups") or []:
        for res in rule.get("resources") or []:
            for verb in rule.get("verbs") or []:
                names = rule.get("resourceNames") or []
                if names:
                    out += [{"apiGroups": [group], "resources": [res], "verbs": [verb],
                             "resourceNames": [n]} for n in names]
                else:
                    out.append({"apiGroups": [group], "resources": [res], "verbs": [verb]})
    for url in rule.get("nonResourceURLs") or []:
        out += [{"nonResourceURLs": [url], "verbs": [v]} for v in rule.get("verbs") or []]
    return out


def _has_all(owner: list[str], servant: list[str]) -> bool:
    return set(servant) <= set(owner)


def _resource_covers(owner: list[str], servant: str) -> bool:
    if ALL in owner or servant in owner:
        return True
    _, sep, sub = servant.partition("/")
    return bool(sep) and f"*/{sub}" in owner


def _url_covers(owner: str, servant: str) -> bool:
    return owner == servant or (owner.endswith("*") and servant.startswith(owner.rstrip("*")))


def rule_covers(owner: Rule, sub: Rule) -> bool:
    ov, og, names = owner.get("verbs") or [], owner.get("apiGroups") or [], owner.get("resourceNames") or []
    verbs = ALL in ov or _has_all(ov, sub.get("verbs") or [])
    groups = ALL in og or _has_all(og, sub.get("apiGroups") or [])
    resources = all(_resource_covers(owner.get("resources") or [], r) for r in sub.get("resources") or [])
    urls = all(any(_url_covers(o, s) for o in owner.get("nonResourceURLs") or [])
               for s in sub.get("nonResourceURLs") or [])
    sub_names = sub.get("resourceNames") or []
    name_ok = not names or (bool(sub_names) and _has_all(names, sub_names))
    return verbs and groups and resources and urls and name_ok


def uncovered(owner: list[Rule], servant: list[Rule]) -> list[Rule]:
    """The atomic servant rules no owner rule covers (upstream `Covers`)."""
    return [atom for rule in servant for atom in breakdown(rule)
            if not any(rule_covers(o, atom) for o in owner)]


def compact(rules: list[Rule]) -> list[Rule]:
    """Merge the verbs of simple rules on one (group, resource) (upstream `CompactRules`)."""
    out: list[Rule] = []
    simple: dict[tuple[str, str], Rule] = {}
    for r in rules:
        if (len(r.get("apiGroups") or []) == 1 and len(r.get("resources") or []) == 1
                and not r.get("resourceNames") and not r.get("nonResourceURLs")):
            key = (r["apiGroups"][0], r["resources"][0])
            if key in simple:
                simple[key]["verbs"] = [*simple[key]["verbs"], *r["verbs"]]
                continue
            simple[key] = {**r, "verbs": list(r.get("verbs") or [])}
            out.append(simple[key])
        else:
            out.append(r)
    return out


def _q(values: list[str]) -> str:
    """Go's `%q` of a []string: `["a" "b"]`."""
    return "[" + " ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "]"


def compact_string(rule: Rule) -> str:
    parts = [f"{label}:{_q(rule[key])}" for key, label in (
        ("apiGroups", "APIGroups"), ("resources", "Resources"), ("nonResourceURLs", "NonResourceURLs"),
        ("resourceNames", "ResourceNames"), ("verbs", "Verbs")) if rule.get(key)]
    return "{" + ", ".join(parts) + "}"


def confirm_no_escalation(resolver: RuleResolver, user: UserInfo, namespace: str,
                          rules: list[Rule]) -> str | None:
    """None when `user` holds every rule in `rules` in `namespace`, else upstream's message."""
    held = resolver.rules_for(user, namespace)
    missing = uncovered(held.rules(), rules)
    if not missing:
        return None
    lines = sorted({compact_string(r) for r in compact(missing)})
    msg = (f'user "{user.name}" (groups={_q(list(user.groups))}) is attempting to grant RBAC '
           "permissions not currently held:\n" + "\n".join(lines))
    if held.errors:
        msg += f"; resolution errors: [{' '.join(held.errors)}]"
    return msg


# --- the admission step ------------------------------------------------------------------------
def _forbidden(res: catalog.Resource, name: str, why: str) -> errors.Forbidden:
    return errors.Forbidden(f'{res.group_resource} "{name}" is forbidden: {why}', name=name,
                            kind=res.plural, group=res.group)


def _only_gc_fields(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Updates that only touch ownerReferences/finalizers are exempt (IsOnlyMutatingGCFields)."""
    def strip(o: dict[str, Any]) -> dict[str, Any]:
        md = {k: v for k, v in (o.get("metadata") or {}).items()
              if k not in ("ownerReferences", "finalizers", "resourceVersion", "managedFields")}
        return {**o, "metadata": md}
    return strip(new) == strip(old)


class EscalationCheck:
    """An admission plugin the RBAC mode installs on its own (upstream's check lives in the
    RBAC storage and is not optional, so it is not an `--enable-admission-plugins` name)."""

    name = "RBACEscalation"

    def __init__(self, authorizer: Authorizer, resolver: RuleResolver,
                 registries: Mapping[catalog.Resource, Registry]) -> None:
        self.authorizer = authorizer
        self.resolver = resolver
        self.registries = registries  # a binding's role is read from storage, as upstream does

    async def _may(self, user: UserInfo, verb: str, resource: str, name: str, namespace: str) -> bool:
        attrs = Attributes(user, verb, True, namespace=namespace, api_group=GROUP, api_version="v1",
                           resource=resource, name=name)
        return (await self.authorizer.authorize(attrs)).allowed

    async def admit(self, request: AdmissionRequest) -> None:
        res, obj, user = request.resource, request.obj, request.user
        if request.operation is Operation.DELETE or obj is None or request.subresource:
            return
        if res not in _ROLE_KINDS and res not in _BINDING_KINDS:
            return
        if MASTERS in user.groups:
            return
        if request.old is not None and _only_gc_fields(obj, request.old):
            return
        name, ns = request.name or (obj.get("metadata") or {}).get("name", ""), request.namespace
        if res in _ROLE_KINDS:
            await self._check_role(request, name, ns)
        else:
            await self._check_binding(request, name, ns)

    async def _check_role(self, request: AdmissionRequest, name: str, ns: str) -> None:
        res, obj, user = request.resource, request.obj or {}, request.user
        if await self._may(user, "escalate", res.plural, name, ns):
            return
        why = confirm_no_escalation(self.resolver, user, ns, list(obj.get("rules") or []))
        if why is not None:
            raise _forbidden(res, name, why)
        aggregating = bool(obj.get("aggregationRule")) or bool((request.old or {}).get("aggregationRule"))
        if res is catalog.CLUSTERROLES and aggregating and \
                confirm_no_escalation(self.resolver, user, ns, FULL_AUTHORITY) is not None:
            raise _forbidden(res, name, "must have cluster-admin privileges to use the aggregationRule")

    async def _check_binding(self, request: AdmissionRequest, name: str, ns: str) -> None:
        res, obj, user = request.resource, request.obj or {}, request.user
        ref = obj.get("roleRef") or {}
        target = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        if await self._may(user, "bind", target, ref.get("name", ""), ns):
            return
        kind = catalog.CLUSTERROLES if target == "clusterroles" else catalog.ROLES
        role = await self.registries[kind].get(ns if kind is catalog.ROLES else None, ref.get("name", ""))
        rules = list(role.get("rules") or [])
        why = confirm_no_escalation(self.resolver, user, ns, rules)
        if why is not None:
            raise _forbidden(res, name, why)
