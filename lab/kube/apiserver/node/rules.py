"""The static rules every node gets (upstream `bootstrappolicy.NodeRules()`, the same rules
as the `system:node` ClusterRole), checked as RBAC checks a rule (`rbac.RulesAllow`).
The Node authorizer narrows secrets, configmaps, volumes, tokens, leases, nodes and pods
itself; everything else a kubelet does is allowed by this table."""

from __future__ import annotations

from dataclasses import dataclass

from lab.kube.apiserver.authz.attributes import Attributes

READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    group: str
    resources: tuple[str, ...]
    """`plural` or `plural/subresource`."""

    def allows(self, attrs: Attributes) -> bool:
        return (attrs.resource_request and attrs.verb in self.verbs and attrs.api_group == self.group
                and attrs.resource_and_sub in self.resources)


NODE_RULES: tuple[Rule, ...] = (
    # checking API access (these creates change nothing)
    Rule(("create",), "authentication.k8s.io", ("tokenreviews",)),
    Rule(("create",), "authorization.k8s.io", ("subjectaccessreviews", "localsubjectaccessreviews")),
    # the service environment variables of pods
    Rule(READ, "", ("services",)),
    # registering and reporting; NodeRestriction keeps a node to its own Node
    Rule(("create", "get", "list", "watch"), "", ("nodes",)),
    Rule(("update", "patch"), "", ("nodes/status",)),
    Rule(("update", "patch"), "", ("nodes",)),
    Rule(("create", "update", "patch"), "", ("events",)),
    Rule(READ, "", ("pods",)),
    # mirror pods, pod status and evictions; NodeRestriction keeps them to pods bound to the node
    Rule(("create", "delete"), "", ("pods",)),
    Rule(("update", "patch"), "", ("pods/status",)),
    Rule(("create",), "", ("pods/eviction",)),
    # narrowed to what the graph links to the node by the Node authorizer
    Rule(READ, "", ("secrets", "configmaps")),
    Rule(("get",), "", ("persistentvolumeclaims", "persistentvolumes")),
    Rule(("get",), "", ("endpoints",)),
    # client certificate rotation
    Rule(("create", "get", "list", "watch"), "certificates.k8s.io", ("certificatesigningrequests",)),
    Rule(("get", "create", "update", "patch", "delete"), "coordination.k8s.io", ("leases",)),
    Rule(("get",), "storage.k8s.io", ("volumeattachments",)),
    Rule(("get", "update", "patch"), "", ("persistentvolumeclaims/status",)),
    Rule(("create",), "", ("serviceaccounts/token",)),
    Rule(("get", "watch", "list"), "storage.k8s.io", ("csidrivers",)),
    Rule(("get", "create", "update", "patch", "delete"), "storage.k8s.io", ("csinodes",)),
    Rule(READ, "node.k8s.io", ("runtimeclasses",)),
)


def rules_allow(attrs: Attributes, rules: tuple[Rule, ...] = NODE_RULES) -> bool:
    return any(rule.allows(attrs) for rule in rules)
