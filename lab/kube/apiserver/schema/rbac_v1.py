"""rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings."""

from __future__ import annotations

from .meta_v1 import LABEL_SELECTOR, OBJECT_META
from .types import Arr, Desc, Group, S

rbac = Group("io.k8s.api.rbac.v1")
_G = "rbac.authorization.k8s.io"

POLICY_RULE = rbac.define("PolicyRule", {
    "apiGroups": Arr(S, list_type="atomic"),
    "nonResourceURLs": Arr(S, list_type="atomic"),
    "resourceNames": Arr(S, list_type="atomic"),
    "resources": Arr(S, list_type="atomic"),
    "verbs": Desc(Arr(S, list_type="atomic"),
                  "Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. "
                  "'*' represents all verbs."),
}, required=("verbs",), desc="PolicyRule holds information that describes a policy rule, but does not "
                             "contain information about who the rule applies to or which namespace the "
                             "rule applies to.")
ROLE_REF = rbac.define("RoleRef", {"apiGroup": S, "kind": S, "name": S},
                       required=("apiGroup", "kind", "name"),
                       desc="RoleRef contains information that points to the role being used")
SUBJECT = rbac.define("Subject", {"apiGroup": S, "kind": S, "name": S, "namespace": S},
                      required=("kind", "name"),
                      desc="Subject contains a reference to the object or user identities a role "
                           "binding applies to.")

rbac.define("ClusterRole", {
    "aggregationRule": rbac.define("AggregationRule", {
        "clusterRoleSelectors": Arr(LABEL_SELECTOR, list_type="atomic"),
    }, desc="AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole"),
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "rules": Arr(POLICY_RULE, list_type="atomic"),
}, desc="ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a "
        "unit by a RoleBinding or ClusterRoleBinding.", gvk=(_G, "v1", "ClusterRole"))
rbac.define("Role", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "rules": Arr(POLICY_RULE, list_type="atomic"),
}, desc="Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a "
        "RoleBinding.", gvk=(_G, "v1", "Role"))
rbac.define("ClusterRoleBinding", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META, "roleRef": ROLE_REF,
    "subjects": Arr(SUBJECT, list_type="atomic"),
}, required=("roleRef",), desc="ClusterRoleBinding references a ClusterRole, but not contain it.",
    gvk=(_G, "v1", "ClusterRoleBinding"))
rbac.define("RoleBinding", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META, "roleRef": ROLE_REF,
    "subjects": Arr(SUBJECT, list_type="atomic"),
}, required=("roleRef",), desc="RoleBinding references a role, but does not contain it.",
    gvk=(_G, "v1", "RoleBinding"))
