"""The catalog of API resources kubelab serves: names, scopes, verbs, etcd prefixes.

Pure data shared by the API server (routing, discovery, OpenAPI, storage keys) and
the client (URL building). Adding a resource starts here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    """One top-level API resource, e.g. `pods` in the core group `v1`."""

    group: str  # "" for the core group
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    storage_prefix: str  # under /registry, e.g. "pods", "services/specs", "minions"
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. ("status", "binding")
    verbs: tuple[str, ...] = _CRUD
    list_kind: str = field(default="")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """`pods` or `deployments.apps`: how upstream names it in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The REST path for a collection or one object."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, "namespaces",
             short_names=("ns",), subresources=("status",)),
    Resource("", "v1", "pods", "pod", "Pod", True, "pods",
             short_names=("po",), categories=("all",),
             subresources=("status", "binding", "eviction", "log", "exec", "attach", "portforward",
                           "ephemeralcontainers")),
    Resource("", "v1", "nodes", "node", "Node", False, "minions",
             short_names=("no",), subresources=("status",)),
    Resource("", "v1", "services", "service", "Service", True, "services/specs",
             short_names=("svc",), categories=("all",), subresources=("status",)),
    Resource("", "v1", "endpoints", "endpoints", "Endpoints", True, "services/endpoints",
             short_names=("ep",)),
    Resource("", "v1", "events", "event", "Event", True, "events", short_names=("ev",)),
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, "configmaps",
             short_names=("cm",)),
    Resource("", "v1", "secrets", "secret", "Secret", True, "secrets"),
    Resource("apps", "v1", "deployments", "deployment", "Deployment", True, "deployments",
             short_names=("deploy",), categories=("all",), subresources=("status", "scale")),
    Resource("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, "replicasets",
             short_names=("rs",), categories=("all",), subresources=("status", "scale")),
    Resource("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, "daemonsets",
             short_names=("ds",), categories=("all",), subresources=("status",)),
    Resource("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", True,
             "controllerrevisions"),
    Resource("batch", "v1", "jobs", "job", "Job", True, "jobs", categories=("all",), subresources=("status",)),
    Resource("batch", "v1", "cronjobs", "cronjob", "CronJob", True, "cronjobs", short_names=("cj",),
             categories=("all",), subresources=("status",)),
    Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True,
             "endpointslices"),
    Resource("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, "ingress", short_names=("ing",),
             subresources=("status",)),
    Resource("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", False, "ingressclasses"),
    Resource("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", True,
             "networkpolicies", short_names=("netpol",)),
    Resource("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", True,
             "poddisruptionbudgets", short_names=("pdb",), subresources=("status",)),
    Resource("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", False,
             "priorityclasses", short_names=("pc",)),
    Resource("coordination.k8s.io", "v1", "leases", "lease", "Lease", True, "leases"),
    Resource("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, "serviceaccounts",
             short_names=("sa",), subresources=("token",)),
    Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False,
             "clusterroles"),
    Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
             "ClusterRoleBinding", False, "clusterrolebindings"),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True, "roles"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True,
             "rolebindings"),
    # the review APIs: create-only, nothing stored (rest/reviews.py answers them)
    Resource("authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", False,
             "", verbs=("create",)),
    Resource("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, "", verbs=("create",)),
    Resource("authentication.k8s.io", "v1beta1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, "", verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "localsubjectaccessreviews", "localsubjectaccessreview",
             "LocalSubjectAccessReview", True, "", verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
             "SelfSubjectAccessReview", False, "", verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
             "SelfSubjectRulesReview", False, "", verbs=("create",)),
    Resource("authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview",
             "SubjectAccessReview", False, "", verbs=("create",)),
)

_BY_GVR: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND: dict[tuple[str, str], Resource] = {(r.group_version, r.kind): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return _BY_GVR.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> Resource | None:
    return _BY_KIND.get((api_version, kind))


def groups() -> dict[str, list[str]]:
    """Served API groups (core is "") with their versions, preferred first."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out


def _named(plural: str, group: str = "") -> Resource:
    res = next((r for r in RESOURCES if r.plural == plural and r.group == group), None)
    assert res is not None, plural
    return res


NAMESPACES = _named("namespaces")
PODS = _named("pods")
NODES = _named("nodes")
SERVICES = _named("services")
ENDPOINTS = _named("endpoints")
EVENTS = _named("events")
CONFIGMAPS = _named("configmaps")
SECRETS = _named("secrets")
DEPLOYMENTS = _named("deployments", "apps")
REPLICASETS = _named("replicasets", "apps")
DAEMONSETS = _named("daemonsets", "apps")
CONTROLLER_REVISIONS = _named("controllerrevisions", "apps")
JOBS = _named("jobs", "batch")
CRONJOBS = _named("cronjobs", "batch")
ENDPOINTSLICES = _named("endpointslices", "discovery.k8s.io")
LEASES = _named("leases", "coordination.k8s.io")
PRIORITY_CLASSES = _named("priorityclasses", "scheduling.k8s.io")
PDBS = _named("poddisruptionbudgets", "policy")
INGRESSES = _named("ingresses", "networking.k8s.io")
INGRESS_CLASSES = _named("ingressclasses", "networking.k8s.io")
NETWORK_POLICIES = _named("networkpolicies", "networking.k8s.io")
SERVICEACCOUNTS = _named("serviceaccounts")
CLUSTERROLES = _named("clusterroles", "rbac.authorization.k8s.io")
CLUSTERROLEBINDINGS = _named("clusterrolebindings", "rbac.authorization.k8s.io")
ROLES = _named("roles", "rbac.authorization.k8s.io")
ROLEBINDINGS = _named("rolebindings", "rbac.authorization.k8s.io")
REVIEWS: tuple[Resource, ...] = tuple(r for r in RESOURCES if r.verbs == ("create",) and not r.storage_prefix)
"""Create-only virtual resources: answered at once, never stored."""
