"""Node selection as upstream `nodeaffinity.NodeSelector`: `spec.nodeSelector` and required node
affinity terms (ORed; expressions within a term ANDed; matchFields on `metadata.name`, how
DaemonSet pods are pinned). Shared by the scheduler and the DaemonSet controller."""

from __future__ import annotations

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of


def _match_expression(expr: Obj, values_of: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    present = key in values_of
    if op == "In":
        return present and values_of[key] in values
    if op == "NotIn":
        return not present or values_of[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, want = int(values_of[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False  # unknown operator: never matches (validation should have refused it)


def term_matches(term: Obj, node: Obj) -> bool:
    """One NodeSelectorTerm; an empty term matches nothing (upstream)."""
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = meta.labels(node)
    if not all(_match_expression(e, labels) for e in exprs):
        return False
    node_fields = {"metadata.name": meta.name(node)}
    return all(_match_expression(f, node_fields) for f in fields)


def required_matches(pod: Obj, node: Obj) -> bool:
    spec = spec_of(pod)
    labels = meta.labels(node)
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])
