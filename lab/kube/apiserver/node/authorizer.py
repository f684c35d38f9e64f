"""`--authorization-mode=Node` (upstream `plugin/pkg/auth/authorizer/node/node_authorizer.go`,
1.32+ with `AuthorizeNodeWithSelectors`): what a kubelet (`system:node:<name>` in
`system:nodes`) may do. Reads of secrets, configmaps, volumes and service account tokens
need a path in the graph from the object to the node; a node reads only its own Node and
lists only its own pods; the rest is the static `system:node` rules. It never denies: a
refusal is NO_OPINION with a reason, and the next mode (RBAC) decides.
"""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.authz.authorizer import Decision, Verdict
from lab.kube.apiserver.node import graph as g
from lab.kube.apiserver.node.graph import Graph, Vertex
from lab.kube.apiserver.node.populator import GraphPopulator
from lab.kube.apiserver.node.rules import rules_allow
from lab.kube.apiserver.registry import Registry
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.selectors import DOUBLE_EQUALS, EQUALS, FieldSelector
from lab.kube.machinery.user import NODE_PREFIX, NODES, node_name

NODE_LEASE_NAMESPACE = "kube-node-lease"
ALLOW = Verdict(Decision.ALLOW)
NO_OPINION = Verdict(Decision.NO_OPINION)


def _no(reason: str) -> Verdict:
    return Verdict(Decision.NO_OPINION, reason)


class NodeAuthorizer:
    def __init__(self, graph: Graph, populator: GraphPopulator | None = None) -> None:
        self.graph = graph
        self.populator = populator

    @classmethod
    def on(cls, registries: Mapping[Resource, Registry]) -> NodeAuthorizer:
        """An authorizer whose graph follows `registries` (once `run` runs)."""
        graph = Graph()
        return cls(graph, GraphPopulator(graph, registries))

    async def run(self) -> None:
        """Keep the graph current until cancelled."""
        if self.populator is not None:
            await self.populator.run()

    def synced(self) -> bool:
        return self.populator is None or self.populator.synced.is_set()

    async def authorize(self, attrs: Attributes) -> Verdict:
        if not attrs.user.name.startswith(NODE_PREFIX) or NODES not in attrs.user.groups:
            return NO_OPINION
        node = node_name(attrs.user)
        if node is None:
            return _no(f'unknown node for user "{attrs.user.name}"')
        if attrs.resource_request:
            verdict = self._subdivided(node, attrs)
            if verdict is not None:
                return verdict
        return ALLOW if rules_allow(attrs) else NO_OPINION

    def _subdivided(self, node: str, attrs: Attributes) -> Verdict | None:
        """The resources whose access depends on the node; None for the static rules."""
        match attrs.api_group, attrs.resource:
            case "", "secrets":
                return self._read_namespaced(node, g.SECRET, attrs)
            case "", "configmaps":
                return self._read_namespaced(node, g.CONFIGMAP, attrs)
            case "", "persistentvolumeclaims":
                if attrs.subresource == "status":
                    return self._status_update(node, g.PVC, attrs)
                return self._get(node, g.PVC, attrs)
            case "", "persistentvolumes":
                return self._get(node, g.PV, attrs)
            case "", "serviceaccounts":
                return self._create_token(node, attrs)
            case "coordination.k8s.io", "leases":
                return self._lease(node, attrs)
            case "storage.k8s.io", "csinodes":
                return self._csinode(node, attrs)
            case "", "nodes":
                return self._node(node, attrs)
            case "", "pods":
                return self._pod(node, attrs)
        return None

    def _related(self, node: str, kind: str, attrs: Attributes) -> Verdict:
        if not attrs.name:
            return _no("No Object name found")
        if self.graph.has_path(Vertex(kind, attrs.namespace, attrs.name), node):
            return ALLOW
        return _no(f"no relationship found between node '{node}' and this object")

    def _read_namespaced(self, node: str, kind: str, attrs: Attributes) -> Verdict:
        if attrs.verb not in ("get", "list", "watch"):
            return _no("can only read resources of this type")
        if attrs.subresource:
            return _no("cannot read subresource")
        if not attrs.namespace:
            return _no("can only read namespaced object of this type")
        return self._related(node, kind, attrs)

    def _get(self, node: str, kind: str, attrs: Attributes) -> Verdict:
        if attrs.verb != "get":
            return _no("can only get individual resources of this type")
        if attrs.subresource:
            return _no("cannot get subresource")
        return self._related(node, kind, attrs)

    def _status_update(self, node: str, kind: str, attrs: Attributes) -> Verdict:
        if attrs.verb not in ("update", "patch"):
            return _no("can only get/update/patch this type")
        if attrs.subresource != "status":
            return _no("can only update status subresource")
        return self._related(node, kind, attrs)

    def _create_token(self, node: str, attrs: Attributes) -> Verdict:
        if attrs.verb != "create" or not attrs.name:
            return _no("can only create tokens for individual service accounts")
        if attrs.subresource != "token":
            return _no("can only create token subresource of serviceaccount")
        return self._related(node, g.SERVICE_ACCOUNT, attrs)

    def _lease(self, node: str, attrs: Attributes) -> Verdict:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a node lease")
        if attrs.namespace != NODE_LEASE_NAMESPACE:
            return _no(f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace')
        # a create names its lease only in the body: NodeRestriction checks that one
        if attrs.verb != "create" and attrs.name != node:
            return _no("can only access node lease with the same name as the requesting node")
        return ALLOW

    def _csinode(self, node: str, attrs: Attributes) -> Verdict:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return _no("can only get, create, update, patch, or delete a CSINode")
        if attrs.subresource:
            return _no("cannot authorize CSINode subresources")
        if attrs.verb != "create" and attrs.name != node:
            return _no("can only access CSINode with the same name as the requesting node")
        return ALLOW

    def _node(self, node: str, attrs: Attributes) -> Verdict:
        if not attrs.subresource:
            if attrs.verb in ("create", "update", "patch"):
                return ALLOW  # NodeRestriction keeps the node to its own object
            if attrs.verb in ("get", "list", "watch"):
                # by name rather than through the graph: a kubelet reads its Node before creating it
                if attrs.name == node:
                    return ALLOW
                if not attrs.name:
                    return _no(f"node '{node}' cannot read all nodes, only its own Node object")
                return _no(f"node '{node}' cannot read '{attrs.name}', only its own Node object")
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return ALLOW
        return NO_OPINION

    def _pod(self, node: str, attrs: Attributes) -> Verdict:
        if not attrs.subresource:
            if attrs.verb == "get":
                return self._get(node, g.POD, attrs)
            if attrs.verb in ("list", "watch"):
                if _selects_node(attrs.field_selector, node):
                    return ALLOW
                if attrs.name:
                    return self._related(node, g.POD, attrs)
                return _no("can only list/watch pods with spec.nodeName field selector")
            if attrs.verb in ("create", "delete"):
                return ALLOW  # mirror pods; NodeRestriction keeps them to the node's own
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return ALLOW  # NodeRestriction: only pods bound to the node
        elif attrs.subresource == "eviction" and attrs.verb == "create":
            return ALLOW  # NodeRestriction: only pods bound to the node
        return NO_OPINION


def _selects_node(field_selector: str, node: str) -> bool:
    try:
        selector = FieldSelector.parse(field_selector)
    except errors.BadRequest:  # an unparsable selector scopes nothing; the list itself answers 400
        return False
    return any(r.field == "spec.nodeName" and r.operator in (EQUALS, DOUBLE_EQUALS) and r.value == node
               for r in selector.requirements)
