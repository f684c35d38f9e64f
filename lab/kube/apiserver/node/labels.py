"""Which Node labels a kubelet may set itself (NodeRestriction's label filter, with
`k8s.io/kubelet/pkg/apis/well_known_labels.go`): none under `node-restriction.kubernetes.io`,
and of the `kubernetes.io` / `k8s.io` labels only the well-known kubelet ones, so a node
cannot steer workloads meant for other nodes to itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NODE_RESTRICTION_NAMESPACE = "node-restriction.kubernetes.io"
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
    "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
})
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


def _namespace(key: str) -> str:
    prefix, sep, _ = key.partition("/")
    return prefix if sep else ""


def _in(namespace: str, domain: str) -> bool:
    return namespace == domain or namespace.endswith("." + domain)


def is_kubelet_label(key: str) -> bool:
    return key in KUBELET_LABELS or any(_in(_namespace(key), ns) for ns in KUBELET_LABEL_NAMESPACES)


def is_kubernetes_label(key: str) -> bool:
    namespace = _namespace(key)
    return _in(namespace, "kubernetes.io") or _in(namespace, "k8s.io")


def modified(new: Mapping[str, str], old: Mapping[str, str]) -> set[str]:
    """Keys added, removed or changed between two label maps."""
    return {k for k in new.keys() | old.keys() if new.get(k) != old.get(k)}


def forbidden(keys: Iterable[str]) -> list[str]:
    """The keys a node may not add, remove or change, sorted (as upstream lists them)."""
    return sorted(k for k in keys if _in(_namespace(k), NODE_RESTRICTION_NAMESPACE)
                  or (is_kubernetes_label(k) and not is_kubelet_label(k)))
