"""The Node authorizer's graph (upstream `plugin/pkg/auth/authorizer/node/graph.go`): who
leads to which node. Edges point toward a node:

    secret/configmap/serviceaccount/pvc -> pod -> node,   pv -> pvc,   secret -> pv

An object that is added again replaces every edge it brought (its vertex's in and out
edges); a vertex left with no edges is forgotten. A kubelet may read an object when a path
leads from it to its own node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lab.kube.apiserver.node import references
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"

NODE, POD, SECRET, CONFIGMAP, SERVICE_ACCOUNT, PVC, PV = (
    "node", "pod", "secret", "configmap", "serviceAccount", "pvc", "pv")


@dataclass(frozen=True)
class Vertex:
    kind: str
    namespace: str
    name: str


class Graph:
    def __init__(self) -> None:
        self._out: dict[Vertex, set[Vertex]] = {}
        self._in: dict[Vertex, set[Vertex]] = {}

    def __contains__(self, vertex: Vertex) -> bool:
        return vertex in self._out or vertex in self._in

    def __len__(self) -> int:
        return len(self._out.keys() | self._in.keys())

    # --- objects -------------------------------------------------------------------------------
    def add_pod(self, pod: Obj) -> None:
        """Pod -> its node, and everything it names -> the pod. Unscheduled pods lead nowhere;
        mirror pods (the kubelet's own static pods) name nothing the kubelet must read."""
        ns, name = meta.namespace(pod), meta.name(pod)
        vertex = Vertex(POD, ns, name)
        node = spec_of(pod).get("nodeName")
        if not isinstance(node, str) or not node:
            self.remove(vertex)
            return
        sources: list[Vertex] = []
        if MIRROR_POD_ANNOTATION not in meta.annotations(pod):
            sa = spec_of(pod).get("serviceAccountName")
            if isinstance(sa, str) and sa:
                sources.append(Vertex(SERVICE_ACCOUNT, ns, sa))
            sources += [Vertex(SECRET, ns, s) for s in references.secret_names(pod)]
            sources += [Vertex(CONFIGMAP, ns, c) for c in references.configmap_names(pod)]
            sources += [Vertex(PVC, ns, c) for c in references.claim_names(pod)]
        self._replace(vertex, sources, [Vertex(NODE, "", node)])

    def delete_pod(self, namespace: str, name: str) -> None:
        self.remove(Vertex(POD, namespace, name))

    def add_pv(self, pv: Obj) -> None:
        """PV -> the claim it is bound to, and the secrets its source needs -> the PV."""
        vertex = Vertex(PV, "", meta.name(pv))
        claim = spec_of(pv).get("claimRef")
        if not isinstance(claim, dict) or not claim.get("name"):
            self.remove(vertex)
            return
        target = Vertex(PVC, str(claim.get("namespace") or ""), str(claim["name"]))
        secrets = [Vertex(SECRET, ns, n) for ns, n in references.pv_secret_refs(pv)]
        self._replace(vertex, secrets, [target])

    def delete_pv(self, name: str) -> None:
        self.remove(Vertex(PV, "", name))

    # --- queries -------------------------------------------------------------------------------
    def has_path(self, start: Vertex, node_name: str) -> bool:
        """A directed path from `start` to the node's vertex (a walk that never passes
        through another node: nodes have no outgoing edges)."""
        target = Vertex(NODE, "", node_name)
        if target not in self or start not in self:
            return False
        seen, todo = {start}, [start]
        while todo:
            for nxt in self._out.get(todo.pop(), ()):
                if nxt == target:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    # --- edges ---------------------------------------------------------------------------------
    def _replace(self, vertex: Vertex, sources: Iterable[Vertex], targets: Iterable[Vertex]) -> None:
        self.remove(vertex)
        for source in sources:
            self._link(source, vertex)
        for target in targets:
            self._link(vertex, target)

    def _link(self, src: Vertex, dst: Vertex) -> None:
        self._out.setdefault(src, set()).add(dst)
        self._in.setdefault(dst, set()).add(src)

    def remove(self, vertex: Vertex) -> None:
        """Drop the vertex's edges; neighbours left without edges are dropped too."""
        neighbours = self._out.pop(vertex, set()) | self._in.pop(vertex, set())
        for other in neighbours:
            for index in (self._out, self._in):
                edges = index.get(other)
                if edges is not None:
                    edges.discard(vertex)
                    if not edges:
                        del index[other]
