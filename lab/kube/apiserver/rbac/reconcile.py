"""Reconcile the bootstrap policy at every start (upstream post-start hook
`rbac/bootstrap-roles`, `pkg/registry/rbac/reconciliation`): create what is missing; add to
what exists the default rules it does not cover (as single-verb atoms), labels, annotations
and subjects, never removing anything; leave alone an object annotated
`rbac.authorization.kubernetes.io/autoupdate: "false"`.
A binding whose roleRef changed is deleted and created again (roleRef is immutable)."""

from __future__ import annotations

import copy
import logging

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.rbac import policy
from lab.kube.apiserver.rbac.escalation import uncovered
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)


def _merged(current: Obj, desired: Obj, list_field: str) -> Obj | None:
    """`current` with what `desired` adds, or None when nothing is missing."""
    out = copy.deepcopy(current)
    md = out.setdefault("metadata", {})
    for key in ("labels", "annotations"):
        want = desired["metadata"].get(key) or {}
        have = md.get(key) or {}
        missing = {k: v for k, v in want.items() if k not in have}
        if missing:
            md[key] = {**have, **missing}
    items = list(out.get(list_field) or [])
    if list_field == "rules":  # as upstream: the atoms of the default rules not yet covered
        items += uncovered(items, list(desired.get("rules") or []))
    else:
        items += [i for i in desired.get(list_field) or [] if i not in items]
    if items:
        out[list_field] = items
    if "aggregationRule" in desired and not out.get("aggregationRule"):
        out["aggregationRule"] = desired["aggregationRule"]
    return None if out == current else out


async def _ensure(ctx: ServerContext, res: Resource, desired: Obj, list_field: str) -> None:
    reg = ctx.registries[res]
    ns, name = meta.namespace(desired) or None, meta.name(desired)
    try:
        current = await reg.get(ns, name)
    except errors.NotFound:
        try:
            await reg.create(ns, copy.deepcopy(desired))
            log.info("created %s %s", res.plural, name)
        except errors.AlreadyExists:
            pass  # another API server was faster
        return
    if meta.annotations(current).get(policy.AUTOUPDATE) == "false":
        return
    if list_field == "subjects" and current.get("roleRef") != desired.get("roleRef"):
        await reg.delete(ns, name)
        await reg.create(ns, copy.deepcopy(desired))
        log.info("recreated %s %s (roleRef changed)", res.plural, name)
        return
    if list_field == "rules" and current.get("aggregationRule"):
        desired = {**desired, "rules": []}  # the aggregation controller owns these rules
    updated = _merged(current, desired, list_field)
    if updated is not None:
        await reg.update(ns, name, updated)
        log.info("reconciled %s %s", res.plural, name)


async def reconcile(ctx: ServerContext) -> None:
    """Every default role and binding; the namespaced ones after their namespaces exist."""
    for obj in policy.cluster_roles():
        await _ensure(ctx, catalog.CLUSTERROLES, obj, "rules")
    for obj in policy.cluster_role_bindings():
        await _ensure(ctx, catalog.CLUSTERROLEBINDINGS, obj, "subjects")
    for obj in policy.roles():
        await _ensure(ctx, catalog.ROLES, obj, "rules")
    for obj in policy.role_bindings():
        await _ensure(ctx, catalog.ROLEBINDINGS, obj, "subjects")
