"""pods/eviction (upstream `pkg/registry/core/pod/storage/eviction.go`): delete a pod only when
its PodDisruptionBudget allows it. The budget's `disruptionsAllowed` is decremented and the pod
recorded in `disruptedPods` in one compare-and-swap before the delete, so two evictions racing
for the last allowed disruption cannot both win; a refusal is 429 with a DisruptionBudget cause,
which `kubectl drain` retries every 5 s."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.registry.options import DeleteOptions
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

MAX_DISRUPTED_PODS = 2000  # upstream MaxDisruptedPodSize
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
CREATED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status_of(pod).get("conditions") or [])


def _budget_refusal(name: str, why: str) -> errors.TooManyRequests:
    return errors.TooManyRequests(VIOLATION, causes=[Cause("DisruptionBudget", why)])


def _can_ignore_budget(pod: Obj) -> bool:
    """Upstream `canIgnorePDB`: finished, pending or already terminating pods disrupt nothing."""
    return status_of(pod).get("phase") in ("Succeeded", "Failed", "Pending") or meta.is_deleting(pod)


def _matching_budgets(pdbs: list[Obj], pod: Obj) -> list[Obj]:
    out = []
    for pdb in pdbs:
        selector = spec_of(pdb).get("selector")
        if selector is None:
            continue  # policy/v1: no selector selects nothing; an empty one selects every pod
        if LabelSelector.from_object(selector).matches(meta.labels(pod)):
            out.append(pdb)
    return out


async def evict(ctx: ServerContext, namespace: str, name: str, body: Any) -> Obj:
    if not isinstance(body, dict):
        raise errors.BadRequest("json: cannot unmarshal into Go value of type policy.Eviction")
    named = meta.metadata(body).get("name")
    if named and named != name:
        raise errors.BadRequest(f"name in URL does not match name in Eviction object: {name} != {named}")
    opts = DeleteOptions.from_dict(body.get("deleteOptions") or {})
    pods, pdbs = ctx.registries[catalog.PODS], ctx.registries[catalog.PDBS]
    pod = await pods.get(namespace, name)
    if _can_ignore_budget(pod):
        await pods.delete(namespace, name, opts)
        return CREATED
    budgets = _matching_budgets((await pdbs.list(namespace))["items"], pod)
    if len(budgets) > 1:
        raise errors.InternalError("This pod has more than one PodDisruptionBudget, which the eviction subresource "
                                   "does not support.")
    if budgets:
        pdb = budgets[0]
        policy = spec_of(pdb).get("unhealthyPodEvictionPolicy") or "IfHealthyBudget"
        status = status_of(pdb)
        unhealthy_goes = not _ready(pod) and (policy == "AlwaysAllow" or (
            int(status.get("currentHealthy") or 0) >= int(status.get("desiredHealthy") or 0) > 0))
        if not unhealthy_goes:
            await pdbs.raw_update(namespace, meta.name(pdb), lambda current: _take_one(current, name))
    await pods.delete(namespace, name, DeleteOptions(opts.grace_period_seconds, opts.propagation_policy,
                                                     opts.uid or meta.uid(pod), opts.resource_version, opts.dry_run))
    return CREATED


def _take_one(pdb: Obj, pod_name: str) -> Obj:
    """Upstream `checkAndDecrement`, run inside the budget's compare-and-swap."""
    name, status = meta.name(pdb), pdb.setdefault("status", {})
    if int(status.get("observedGeneration") or 0) < meta.generation(pdb):
        raise _budget_refusal(name, f"The disruption budget {name} is still being processed by the server.")
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise errors.Forbidden("pdb disruptions allowed is negative")
    disrupted = dict(status.get("disruptedPods") or {})
    if len(disrupted) > MAX_DISRUPTED_PODS:
        raise errors.Forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
    if allowed == 0:
        raise _budget_refusal(name, f"The disruption budget {name} needs {int(status.get('desiredHealthy') or 0)} "
                                    f"healthy pods and has {int(status.get('currentHealthy') or 0)} currently")
    disrupted[pod_name] = meta.now()
    status.update(disruptionsAllowed=allowed - 1, disruptedPods=disrupted)
    return pdb
