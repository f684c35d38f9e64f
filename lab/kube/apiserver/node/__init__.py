"""The Node authorizer and NodeRestriction admission: what a kubelet's identity
(`system:node:<name>` in `system:nodes`) may read and write."""

from lab.kube.apiserver.node.authorizer import NodeAuthorizer
from lab.kube.apiserver.node.graph import Graph, Vertex
from lab.kube.apiserver.node.populator import GraphPopulator

__all__ = ["Graph", "GraphPopulator", "NodeAuthorizer", "Vertex"]
