"""rbac.authorization.k8s.io: Roles, ClusterRoles and their bindings (upstream
`pkg/apis/rbac/validation`, `pkg/registry/rbac/*/strategy.go`, the rbac printers).

Names are path segments (`system:node` is a valid name), rules need verbs, a binding's
roleRef never changes, and subjects are Users, Groups or ServiceAccounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.machinery import catalog, meta, names
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ["ServiceAccount", "User", "Group"]


def _name_causes(causes: list[Cause], obj: Obj) -> list[Cause]:
    """Swap the generic DNS-subdomain name check for upstream's `ValidateRBACName`."""
    kept = [c for c in causes if c.field != "metadata.name" or c.reason == "FieldValueRequired"]
    name = meta.name(obj)
    return kept + [v.invalid("metadata.name", name, p) for p in names.path_segment_problems(name)] \
        if name else kept


def rule_causes(rule: Any, path: str, *, namespaced: bool) -> list[Cause]:
    """upstream `ValidatePolicyRule`."""
    if not isinstance(rule, dict):
        return [v.invalid(path, rule, "must be an object")]
    causes: list[Cause] = []
    if not rule.get("verbs"):
        causes.append(v.required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            causes.append(v.invalid(f"{path}.nonResourceURLs", urls,
                                    "namespaced rules cannot apply to non-resource URLs"))
        elif rule.get("apiGroups") or rule.get("resources"):
            causes.append(v.invalid(f"{path}.nonResourceURLs", urls,
                                    "rules cannot apply to both regular resources and non-resource URLs"))
        return causes
    if not rule.get("apiGroups"):
        causes.append(v.required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        causes.append(v.required(f"{path}.resources", "resource rules must supply at least one resource"))
    return causes


@dataclass
class RoleStrategy(Strategy):
    """Roles and ClusterRoles: the generic columns (NAME, CREATED AT) as upstream prints them."""

    def validate(self, obj: Obj) -> list[Cause]:
        causes = _name_causes(super().validate(obj), obj)
        for i, rule in enumerate(obj.get("rules") or []):
            causes += rule_causes(rule, f"rules[{i}]", namespaced=self.resource.namespaced)
        agg = obj.get("aggregationRule")
        if agg is not None and not self.resource.namespaced and not (agg or {}).get("clusterRoleSelectors"):
            causes.append(v.required("aggregationRule.clusterRoleSelectors", ""))
        return causes


def subject_causes(subject: Any, path: str, *, namespaced: bool) -> list[Cause]:
    """upstream `ValidateRoleBindingSubject`."""
    if not isinstance(subject, dict):
        return [v.invalid(path, subject, "must be an object")]
    causes: list[Cause] = []
    name, kind, group = subject.get("name") or "", subject.get("kind") or "", subject.get("apiGroup") or ""
    if not name:
        causes.append(v.required(f"{path}.name", ""))
    if kind == "ServiceAccount":
        if name:
            causes += [v.invalid(f"{path}.name", name, p) for p in names.is_dns1123_subdomain(name)]
        if group:
            causes.append(v.not_supported(f"{path}.apiGroup", group, [""]))
        if not namespaced and not subject.get("namespace"):
            causes.append(v.required(f"{path}.namespace", ""))
    elif kind in ("User", "Group"):
        if group != GROUP:
            causes.append(v.not_supported(f"{path}.apiGroup", group, [GROUP]))
    else:
        causes.append(v.not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return causes


def subject_names(obj: Obj, kind: str) -> str:
    """The wide columns: `a, b`, ServiceAccounts as `ns/name`."""
    out = []
    for s in obj.get("subjects") or []:
        if s.get("kind") == kind:
            out.append(f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount"
                       else str(s.get("name", "")))
    return ", ".join(out)


@dataclass
class BindingStrategy(Strategy):
    def defaults(self, obj: Obj) -> None:
        ref = obj.get("roleRef")
        if isinstance(ref, dict) and not ref.get("apiGroup"):
            ref["apiGroup"] = GROUP
        for s in obj.get("subjects") or []:
            if isinstance(s, dict) and not s.get("apiGroup") and s.get("kind") in ("User", "Group"):
                s["apiGroup"] = GROUP

    def validate(self, obj: Obj) -> list[Cause]:
        causes = _name_causes(super().validate(obj), obj)
        namespaced = self.resource.namespaced
        ref = obj.get("roleRef") or {}
        kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
        if ref.get("apiGroup") != GROUP:
            causes.append(v.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), [GROUP]))
        if ref.get("kind") not in kinds:
            causes.append(v.not_supported("roleRef.kind", ref.get("kind", ""), kinds))
        if not ref.get("name"):
            causes.append(v.required("roleRef.name", ""))
        else:
            causes += [v.invalid("roleRef.name", ref["name"], p)
                       for p in names.path_segment_problems(ref["name"])]
        for i, subject in enumerate(obj.get("subjects") or []):
            causes += subject_causes(subject, f"subjects[{i}]", namespaced=namespaced)
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self.validate(new)
        if new.get("roleRef") != old.get("roleRef"):
            ref = new.get("roleRef") or {}
            go_value = (f'rbac.RoleRef{{APIGroup:"{ref.get("apiGroup", "")}", Kind:"{ref.get("kind", "")}", '
                        f'Name:"{ref.get("name", "")}"}}')  # Go's %#v of the internal struct
            causes.append(Cause("FieldValueInvalid", f"Invalid value: {go_value}: cannot change roleRef",
                                "roleRef"))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Role", description="RoleRef can reference a Role in the current "
                                    "namespace or a ClusterRole in the global namespace."),
                AGE_COLUMN,
                column("Users", description="Users in the roleBinding", priority=1),
                column("Groups", description="Groups in the roleBinding", priority=1),
                column("ServiceAccounts", description="ServiceAccounts in the roleBinding", priority=1)]

    def row(self, obj: Obj) -> list[Any]:
        ref = obj.get("roleRef") or {}
        return [meta.name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj),
                subject_names(obj, "User"), subject_names(obj, "Group"),
                subject_names(obj, "ServiceAccount")]


ROLES = RoleStrategy(catalog.ROLES)
CLUSTERROLES = RoleStrategy(catalog.CLUSTERROLES)
ROLEBINDINGS = BindingStrategy(catalog.ROLEBINDINGS)
CLUSTERROLEBINDINGS = BindingStrategy(catalog.CLUSTERROLEBINDINGS)
