"""The bootstrap policy: upstream's default ClusterRoles, ClusterRoleBindings and the
kube-system/kube-public Roles and RoleBindings (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`
`policy.go`, `controller_policy.go`, `namespace_policy.go`), trimmed to the kinds and controllers
kubelab serves, plus what our kube-controller-manager needs under its own name (see
`controller_manager_bindings`)."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.rbac.rules import Rule
from lab.kube.machinery.objects import Obj

GROUP = "rbac.authorization.k8s.io"
API_VERSION = f"{GROUP}/v1"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
LEGACY, APPS, RBAC_GROUP, AUTHN, AUTHZ = "", "apps", GROUP, "authentication.k8s.io", "authorization.k8s.io"
EVENTS_GROUP, DISCOVERY, COORDINATION = "events.k8s.io", "discovery.k8s.io", "coordination.k8s.io"


def r(verbs: list[str], groups: list[str], resources: list[str], names: list[str] | None = None) -> Rule:
    rule: Rule = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        rule["resourceNames"] = list(names)
    return rule


def urls(verbs: list[str], paths: list[str]) -> Rule:
    return {"verbs": list(verbs), "nonResourceURLs": list(paths)}


def _meta(name: str, namespace: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "labels": {**BOOTSTRAP_LABELS, **(labels or {})},
                          "annotations": {AUTOUPDATE: "true"}}
    if namespace:
        md["namespace"] = namespace
    return md


def cluster_role(name: str, rules: list[Rule], labels: dict[str, str] | None = None,
                 aggregate_from: str = "") -> Obj:
    obj: Obj = {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": _meta(name, labels=labels),
                "rules": rules}
    if aggregate_from:
        obj["aggregationRule"] = {"clusterRoleSelectors": [
            {"matchLabels": {f"{AGGREGATE}{aggregate_from}": "true"}}]}
    return obj


def role(name: str, namespace: str, rules: list[Rule]) -> Obj:
    return {"apiVersion": API_VERSION, "kind": "Role", "metadata": _meta(name, namespace), "rules": rules}


def user(name: str) -> dict[str, str]:
    return {"apiGroup": GROUP, "kind": "User", "name": name}


def group(name: str) -> dict[str, str]:
    return {"apiGroup": GROUP, "kind": "Group", "name": name}


def service_account(namespace: str, name: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def cluster_role_binding(name: str, role_name: str, subjects: list[dict[str, str]]) -> Obj:
    obj: Obj = {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding", "metadata": _meta(name),
                "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role_name}}
    if subjects:
        obj["subjects"] = subjects
    return obj


def role_binding(name: str, namespace: str, role_name: str, subjects: list[dict[str, str]]) -> Obj:
    return {"apiVersion": API_VERSION, "kind": "RoleBinding", "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": GROUP, "kind": "Role", "name": role_name}, "subjects": subjects}


EVENTS_RULES = [r(["create", "patch", "update"], [LEGACY], ["events"]),
                r(["create", "patch", "update"], [EVENTS_GROUP], ["events"])]
HEALTH = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _aggregate_to_view() -> list[Rule]:
    return [
        r(READ, [LEGACY], ["pods", "replicationcontrollers", "replicationcontrollers/scale",
                           "serviceaccounts", "services", "services/status", "endpoints",
                           "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
        r(READ, [LEGACY], ["limitranges", "resourcequotas", "bindings", "events", "pods/status",
                           "resourcequotas/status", "namespaces/status", "replicationcontrollers/status",
                           "pods/log"]),
        r(READ, [LEGACY], ["namespaces"]),
        r(READ, [DISCOVERY], ["endpointslices"]),
        r(READ, [APPS], ["controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status",
                         "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                         "deployments/status", "replicasets", "replicasets/scale", "replicasets/status"]),
        r(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        r(READ, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        r(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        r(READ, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
    ]


def _aggregate_to_edit() -> list[Rule]:
    return [
        r(["impersonate"], [LEGACY], ["serviceaccounts"]),
        r(WRITE, [LEGACY], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        r(["create"], [LEGACY], ["pods/eviction"]),
        r(WRITE, [LEGACY], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                            "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets",
                            "events"]),
        r(["create"], [LEGACY], ["serviceaccounts/token"]),
        r(WRITE, [APPS], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments",
                          "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
        r(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        r(WRITE, ["batch"], ["jobs", "cronjobs"]),
        r(WRITE, ["policy"], ["poddisruptionbudgets"]),
        r(WRITE, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
        r(READ_WRITE, [COORDINATION], ["leases"]),
        r(READ, [LEGACY], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
                           "services/proxy"]),
    ]


def _node_rules() -> list[Rule]:
    return [
        r(["create"], [AUTHN], ["tokenreviews"]),
        r(["create"], [AUTHZ], ["subjectaccessreviews", "localsubjectaccessreviews"]),
        r(READ, [LEGACY], ["services"]),
        r(["create", "get", "list", "watch"], [LEGACY], ["nodes"]),
        r(["patch", "update"], [LEGACY], ["nodes/status"]),
        r(["patch", "update"], [LEGACY], ["nodes"]),
        r(["create", "patch", "update"], [LEGACY], ["events"]),
        r(READ, [LEGACY], ["pods"]),
        r(["create", "delete"], [LEGACY], ["pods"]),
        r(["patch", "update"], [LEGACY], ["pods/status"]),
        r(["create"], [LEGACY], ["pods/eviction"]),
        r(READ, [LEGACY], ["configmaps", "secrets"]),
        r(["get"], [LEGACY], ["persistentvolumeclaims", "persistentvolumes"]),
        r(["get"], [LEGACY], ["endpoints"]),
        r(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
        r(["create", "delete", "get", "patch", "update"], [COORDINATION], ["leases"]),
        r(["get"], ["storage.k8s.io"], ["volumeattachments"]),
        r(["create"], [LEGACY], ["serviceaccounts/token"]),
        r(["get", "patch", "update"], [LEGACY], ["persistentvolumeclaims/status"]),
        r(READ, ["storage.k8s.io"], ["csidrivers"]),
        r(["create", "delete", "get", "patch", "update"], ["storage.k8s.io"], ["csinodes"]),
        r(READ, ["node.k8s.io"], ["runtimeclasses"]),
    ]


def cluster_roles() -> list[Obj]:
    return [
        cluster_role("cluster-admin", [r(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
        cluster_role("admin", [], aggregate_from="admin"),
        cluster_role("edit", [], {f"{AGGREGATE}admin": "true"}, aggregate_from="edit"),
        cluster_role("view", [], {f"{AGGREGATE}edit": "true"}, aggregate_from="view"),
        cluster_role("system:aggregate-to-admin", [
            r(["create"], [AUTHZ], ["localsubjectaccessreviews"]),
            r(READ_WRITE, [RBAC_GROUP], ["rolebindings", "roles"]),
        ], {f"{AGGREGATE}admin": "true"}),
        cluster_role("system:aggregate-to-edit", _aggregate_to_edit(), {f"{AGGREGATE}edit": "true"}),
        cluster_role("system:aggregate-to-view", _aggregate_to_view(), {f"{AGGREGATE}view": "true"}),
        cluster_role("system:basic-user", [
            r(["create"], [AUTHZ], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            r(["create"], [AUTHN], ["selfsubjectreviews"]),
        ]),
        cluster_role("system:discovery", [urls(["get"], [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
            "/readyz", "/version", "/version/"])]),
        cluster_role("system:public-info-viewer", [urls(["get"], HEALTH)]),
        cluster_role("system:service-account-issuer-discovery", [
            urls(["get"], ["/.well-known/openid-configuration", "/openid/v1/jwks"])]),
        cluster_role("system:monitoring", [urls(["get"], [
            "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz",
            "/readyz/*"])]),
        cluster_role("system:auth-delegator", [r(["create"], [AUTHN], ["tokenreviews"]),
                                               r(["create"], [AUTHZ], ["subjectaccessreviews"])]),
        cluster_role("system:node", _node_rules()),
        cluster_role("system:node-proxier", [
            r(["list", "watch"], [LEGACY], ["endpoints", "services"]),
            r(READ, [LEGACY], ["nodes"]),
            *EVENTS_RULES,
            r(["list", "watch"], [DISCOVERY], ["endpointslices"]),
        ]),
        cluster_role("system:node-bootstrapper", [
            r(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"])]),
        cluster_role("system:kubelet-api-admin", [
            r(READ, [LEGACY], ["nodes"]), r(["proxy"], [LEGACY], ["nodes"]),
            r(["*"], [LEGACY], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"])]),
        cluster_role("system:kube-scheduler", [
            *EVENTS_RULES,
            r(["create"], [COORDINATION], ["leases"]),
            r(["get", "update"], [COORDINATION], ["leases"], ["kube-scheduler"]),
            r(READ, [LEGACY], ["nodes"]),
            r(["delete", "get", "list", "watch"], [LEGACY], ["pods"]),
            r(["create"], [LEGACY], ["bindings", "pods/binding"]),
            r(["patch", "update"], [LEGACY], ["pods/status"]),
            r(READ, [LEGACY], ["replicationcontrollers", "services"]),
            r(READ, [APPS, "extensions"], ["replicasets"]),
            r(READ, [APPS], ["statefulsets"]),
            r(READ, ["policy"], ["poddisruptionbudgets"]),
            r(READ, [LEGACY], ["persistentvolumeclaims", "persistentvolumes"]),
            r(["create"], [AUTHN], ["tokenreviews"]),
            r(["create"], [AUTHZ], ["subjectaccessreviews"]),
            r(READ, ["storage.k8s.io"], ["csinodes"]),
            r(READ, [LEGACY], ["namespaces"]),
            r(READ, ["storage.k8s.io"], ["csidrivers"]),
            r(READ, ["storage.k8s.io"], ["csistoragecapacities"]),
        ]),
        cluster_role("system:volume-scheduler", [
            r(["get", "list", "patch", "update", "watch"], [LEGACY], ["persistentvolumes"]),
            r(READ, ["storage.k8s.io"], ["storageclasses"]),
            r(["get", "list", "patch", "update", "watch"], [LEGACY], ["persistentvolumeclaims"]),
        ]),
        cluster_role("system:kube-controller-manager", [
            *EVENTS_RULES,
            r(["create"], [COORDINATION], ["leases"]),
            r(["get", "update"], [COORDINATION], ["leases"], ["kube-controller-manager"]),
            r(["create"], [LEGACY], ["secrets", "serviceaccounts"]),
            r(["delete"], [LEGACY], ["secrets"]),
            r(["get"], [LEGACY], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            r(["update"], [LEGACY], ["secrets", "serviceaccounts"]),
            r(["create"], [AUTHN], ["tokenreviews"]),
            r(["create"], [AUTHZ], ["subjectaccessreviews"]),
            r(["list", "watch"], ["*"], ["*"]),
            r(["create"], [LEGACY], ["serviceaccounts/token"]),
        ]),
        cluster_role("system:kube-dns", [r(["list", "watch"], [LEGACY], ["endpoints", "services"])]),
        cluster_role("system:kube-aggregator", [r(READ, [LEGACY], ["endpoints", "services"])]),
        cluster_role(KCM_EXTRAS, [
            r(["patch"], [APPS], ["deployments", "deployments/status", "replicasets/status"])]),
        cluster_role(NODE_ROUTES, [r(READ, [LEGACY], ["nodes"])]),
        *controller_roles(),
    ]


def controller_roles() -> list[Obj]:
    """`system:controller:<name>` for the controllers kubelab runs (`controller_policy.go`)."""
    def c(name: str, rules: list[Rule], events: bool = True) -> Obj:
        return cluster_role(f"system:controller:{name}", rules + (EVENTS_RULES if events else []))
    return [
        c("clusterrole-aggregation-controller", [
            r(["escalate", "get", "list", "patch", "update", "watch"], [RBAC_GROUP], ["clusterroles"])],
          events=False),
        c("cronjob-controller", [
            r(["get", "list", "update", "watch"], ["batch"], ["cronjobs"]),
            r(["create", "delete", "get", "list", "patch", "update", "watch"], ["batch"], ["jobs"]),
            r(["update"], ["batch"], ["cronjobs/finalizers", "cronjobs/status"]),
            r(["delete", "list"], [LEGACY], ["pods"]),
        ]),
        c("daemon-set-controller", [
            r(READ, [APPS], ["daemonsets"]),
            r(["update"], [APPS], ["daemonsets/finalizers", "daemonsets/status"]),
            r(["list", "watch"], [LEGACY], ["nodes"]),
            r(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
            r(["create"], [LEGACY], ["pods/binding"]),
            r(["create", "delete", "get", "list", "patch", "update", "watch"], [APPS], ["controllerrevisions"]),
        ]),
        c("deployment-controller", [
            r(["get", "list", "update", "watch"], [APPS], ["deployments"]),
            r(["update"], [APPS], ["deployments/finalizers", "deployments/status"]),
            r(READ_WRITE, [APPS], ["replicasets"]),
            r(["get", "list", "update", "watch"], [LEGACY], ["pods"]),
        ]),
        c("disruption-controller", [
            r(READ, [APPS], ["deployments", "replicasets", "statefulsets"]),
            r(READ, [LEGACY], ["replicationcontrollers"]),
            r(READ, ["policy"], ["poddisruptionbudgets"]),
            r(["update"], ["policy"], ["poddisruptionbudgets/status"]),
            r(["get"], ["*"], ["*/scale"]),
        ]),
        c("endpoint-controller", [
            r(READ, [LEGACY], ["pods", "services"]),
            r(["create", "delete", "get", "list", "update"], [LEGACY], ["endpoints"]),
            r(["create"], [LEGACY], ["endpoints/restricted"]),
        ]),
        c("endpointslice-controller", [
            r(READ, [LEGACY], ["nodes", "pods", "services"]),
            r(["update"], [LEGACY], ["services/finalizers"]),
            r(["create", "delete", "get", "list", "update"], [DISCOVERY], ["endpointslices"]),
        ]),
        c("generic-garbage-collector", [r(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"])]),
        c("job-controller", [
            r(["get", "list", "patch", "update", "watch"], ["batch"], ["jobs"]),
            r(["update"], ["batch"], ["jobs/finalizers", "jobs/status"]),
            r(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
        ]),
        c("namespace-controller", [
            r(["delete", "get", "list", "watch"], [LEGACY], ["namespaces"]),
            r(["update"], [LEGACY], ["namespaces/finalize", "namespaces/status"]),
            r(["delete", "deletecollection", "get", "list"], ["*"], ["*"]),
        ], events=False),
        c("node-controller", [
            r(["delete", "get", "list", "patch", "update"], [LEGACY], ["nodes"]),
            r(["patch", "update"], [LEGACY], ["nodes/status"]),
            r(["patch", "update"], [LEGACY], ["pods/status"]),
            r(["delete", "get", "list"], [LEGACY], ["pods"]),
        ]),
        c("pod-garbage-collector", [
            r(["delete", "list", "watch"], [LEGACY], ["pods"]),
            r(["get", "list"], [LEGACY], ["nodes"]),
            r(["patch"], [LEGACY], ["pods/status"]),
        ], events=False),
        c("replicaset-controller", [
            r(["get", "list", "update", "watch"], [APPS], ["replicasets"]),
            r(["update"], [APPS], ["replicasets/finalizers", "replicasets/status"]),
            r(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
        ]),
        c("root-ca-cert-publisher", [r(["create", "update"], [LEGACY], ["configmaps"])]),
        c("service-account-controller", [r(["create"], [LEGACY], ["serviceaccounts"])]),
        c("ttl-after-finished-controller", [r(["delete", "get", "list", "watch"], ["batch"], ["jobs"])]),
    ]


KCM = "system:kube-controller-manager"
KCM_EXTRAS = "kubelab:kube-controller-manager"
# Our kubelet programs a host-gw route to every other node's podCIDR, so it watches all Nodes;
# upstream's Node authorizer lets a node read only its own (1.32+), and has no opinion on the
# rest, so the lab grants the read through RBAC to every node identity.
NODE_ROUTES = "kubelab:node-routes"
# Public OIDC discovery (the issue's choice, upstream's documented option): anyone may fetch
# /.well-known/openid-configuration and /openid/v1/jwks to verify ServiceAccount tokens.
PUBLIC_ISSUER_DISCOVERY = "kubelab:service-account-issuer-discovery"
"""What our controllers do beyond upstream's controller roles (status and revision patches)."""
CONTROLLERS = ("clusterrole-aggregation-controller", "cronjob-controller", "daemon-set-controller",
               "deployment-controller",
               "disruption-controller", "endpoint-controller", "endpointslice-controller", "generic-garbage-collector",
               "job-controller", "namespace-controller", "node-controller", "pod-garbage-collector",
               "replicaset-controller",
               "root-ca-cert-publisher", "service-account-controller", "ttl-after-finished-controller")


def cluster_role_bindings() -> list[Obj]:
    controller_bindings = [
        cluster_role_binding(f"system:controller:{n}", f"system:controller:{n}",
                             [service_account("kube-system", n)]) for n in CONTROLLERS]
    return [
        cluster_role_binding("cluster-admin", "cluster-admin", [group("system:masters")]),
        cluster_role_binding("system:basic-user", "system:basic-user", [group("system:authenticated")]),
        cluster_role_binding("system:discovery", "system:discovery", [group("system:authenticated")]),
        cluster_role_binding("system:public-info-viewer", "system:public-info-viewer",
                             [group("system:authenticated"), group("system:unauthenticated")]),
        cluster_role_binding("system:service-account-issuer-discovery",
                             "system:service-account-issuer-discovery", [group("system:serviceaccounts")]),
        cluster_role_binding("system:monitoring", "system:monitoring", [group("system:monitoring")]),
        cluster_role_binding("system:node", "system:node", []),
        cluster_role_binding("system:node-proxier", "system:node-proxier", [user("system:kube-proxy")]),
        cluster_role_binding(KCM, KCM, [user(KCM)]),
        cluster_role_binding("system:kube-scheduler", "system:kube-scheduler", [user("system:kube-scheduler")]),
        cluster_role_binding("system:volume-scheduler", "system:volume-scheduler",
                             [user("system:kube-scheduler")]),
        cluster_role_binding("system:kube-dns", "system:kube-dns", [service_account("kube-system", "kube-dns")]),
        # kubeadm's, not the API server's: the lab's admins are in kubeadm:cluster-admins
        cluster_role_binding("kubeadm:cluster-admins", "cluster-admin", [group("kubeadm:cluster-admins")]),
        cluster_role_binding(NODE_ROUTES, NODE_ROUTES, [group("system:nodes")]),
        cluster_role_binding(PUBLIC_ISSUER_DISCOVERY, "system:service-account-issuer-discovery",
                             [group("system:unauthenticated")]),
        *controller_bindings,
        *controller_manager_bindings(),
    ]


def controller_manager_bindings() -> list[Obj]:
    """Our kube-controller-manager runs every controller under its own name (upstream's
    `--use-service-account-credentials=false`), which upstream leaves to the admin to grant:
    bind each controller role, and the extras, to User system:kube-controller-manager."""
    return [cluster_role_binding(f"{KCM_EXTRAS}:{n}", f"system:controller:{n}", [user(KCM)])
            for n in CONTROLLERS] + [cluster_role_binding(KCM_EXTRAS, KCM_EXTRAS, [user(KCM)])]


def roles() -> list[Obj]:
    return [
        role("extension-apiserver-authentication-reader", "kube-system", [
            r(["get", "list", "watch"], [LEGACY], ["configmaps"], ["extension-apiserver-authentication"])]),
        role("system::leader-locking-kube-controller-manager", "kube-system", [
            r(["watch"], [LEGACY], ["configmaps"]),
            r(["get", "update"], [LEGACY], ["configmaps"], ["kube-controller-manager"]),
            r(["create", "get", "list", "update", "watch"], [COORDINATION], ["leases"]),
        ]),
        role("system::leader-locking-kube-scheduler", "kube-system", [
            r(["watch"], [LEGACY], ["configmaps"]),
            r(["get", "update"], [LEGACY], ["configmaps"], ["kube-scheduler"]),
        ]),
    ]


def role_bindings() -> list[Obj]:
    return [
        role_binding("system::extension-apiserver-authentication-reader", "kube-system",
                     "extension-apiserver-authentication-reader",
                     [user(KCM), user("system:kube-scheduler")]),
        role_binding("system::leader-locking-kube-controller-manager", "kube-system",
                     "system::leader-locking-kube-controller-manager",
                     [user(KCM), service_account("kube-system", "kube-controller-manager")]),
        role_binding("system::leader-locking-kube-scheduler", "kube-system",
                     "system::leader-locking-kube-scheduler",
                     [user("system:kube-scheduler"), service_account("kube-system", "kube-scheduler")]),
    ]
