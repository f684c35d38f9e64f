"""Pure Deployment helpers: pod-template-hash, revisions, surge/unavailable arithmetic.

Names and rules follow upstream `deployment/util`: the RS for a template is
`<deployment>-<hash>` labelled `pod-template-hash=<hash>`; maxSurge rounds up and
maxUnavailable rounds down; both zero means one may be unavailable.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from lab.kube.machinery import meta
from lab.kube.machinery.intstr import scaled_value
from lab.kube.machinery.objects import Obj, spec_of, status_of

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
# upstream annotationsToSkip: what stays the Deployment's own when its annotations reach the new RS
ANNOTATIONS_TO_SKIP = frozenset({"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
                                 DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"})
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # upstream util/rand


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    """Upstream `rand.SafeEncodeString`: map each character into the vowel-free alphabet."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in s)


def compute_hash(template: Obj, collision_count: int | None = None) -> str:
    """fnv32a over the template's canonical JSON (plus the collision count), safe-encoded."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode_string(str(fnv32a(data)))


def template_without_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template or {})
    labels = meta.metadata(t).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    def norm(t: Obj) -> Obj:
        t = template_without_hash(t)
        md = meta.metadata(t)
        for k in [k for k, v in md.items() if v in ({}, None, [])]:
            md.pop(k)
        return t
    return norm(a) == norm(b)


def resolve_fenceposts(replicas: int, max_surge: Any, max_unavailable: Any) -> tuple[int, int]:
    """(surge, unavailable) as absolute pod counts (upstream `ResolveFenceposts`)."""
    surge = _scaled(max_surge, replicas, round_up=True)
    unavailable = _scaled(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # otherwise a rollout could never make progress
    return surge, unavailable


def _scaled(value: Any, total: int, round_up: bool) -> int:
    return scaled_value("25%" if value is None else value, total, round_up)


def rolling_params(d: Obj) -> tuple[int, int]:
    spec = spec_of(d)
    ru = ((spec.get("strategy") or {}).get("rollingUpdate")) or {}
    return resolve_fenceposts(replicas_of(d), ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%"))


def replicas_of(obj: Obj) -> int:
    value = spec_of(obj).get("replicas")
    return 1 if value is None else int(value)


def revision_of(obj: Obj) -> int:
    try:
        return int(meta.annotations(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(rses: list[Obj]) -> int:
    return max((revision_of(rs) for rs in rses), default=0)


def by_creation(rses: list[Obj]) -> list[Obj]:
    return sorted(rses, key=lambda rs: (meta.metadata(rs).get("creationTimestamp") or "", meta.name(rs)))


def by_revision(rses: list[Obj]) -> list[Obj]:
    """Oldest revision first (creation timestamps only have seconds: a quick rollout ties them)."""
    return sorted(rses, key=lambda rs: (revision_of(rs), meta.metadata(rs).get("creationTimestamp") or ""))


def find_new_rs(d: Obj, rses: list[Obj]) -> Obj | None:
    """The oldest RS whose template equals the deployment's (ignoring the hash label)."""
    template = spec_of(d).get("template") or {}
    for rs in by_creation(rses):
        if equal_ignore_hash(spec_of(rs).get("template") or {}, template):
            return rs
    return None


def copied_annotations(d: Obj) -> dict[str, str]:
    """The Deployment's annotations its new ReplicaSet carries (`kubernetes.io/change-cause` for
    `kubectl rollout history`), as upstream's copyDeploymentAnnotationsToReplicaSet."""
    return {k: v for k, v in meta.annotations(d).items() if k not in ANNOTATIONS_TO_SKIP}


def new_replica_set(d: Obj, pod_hash: str, replicas: int, revision: int, max_surge: int) -> Obj:
    spec = spec_of(d)
    template = copy.deepcopy(spec.get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta.name(d)}-{pod_hash}", "namespace": meta.namespace(d),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {**copied_annotations(d), REVISION: str(revision), DESIRED_REPLICAS: str(replicas_of(d)),
                            MAX_REPLICAS: str(replicas_of(d) + max_surge)},
            "ownerReferences": [meta.new_controller_ref(d)],
        },
        "spec": {"replicas": replicas, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                 "selector": selector, "template": template},
    }


def new_rs_new_replicas(d: Obj, all_rses: list[Obj], new_rs: Obj) -> int:
    """How many replicas the new RS may have now (upstream `NewRSNewReplicas`)."""
    if (spec_of(d).get("strategy") or {}).get("type") == "Recreate":
        return replicas_of(d)
    if replicas_of(new_rs) > replicas_of(d):
        return replicas_of(d)  # scaled down while (or after) rolling: the new RS shrinks at once
    surge, _ = rolling_params(d)
    current = sum(replicas_of(rs) for rs in all_rses)
    max_total = replicas_of(d) + surge
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, replicas_of(d) - replicas_of(new_rs))
    return replicas_of(new_rs) + max(scale_up, 0)


def max_scaled_down(d: Obj, all_rses: list[Obj], new_rs: Obj | None) -> int:
    """How many old replicas may go now without dropping below minAvailable."""
    _, unavailable = rolling_params(d)
    min_available = replicas_of(d) - unavailable
    all_pods = sum(replicas_of(rs) for rs in all_rses)
    new_unavailable = 0
    if new_rs is not None:
        new_unavailable = replicas_of(new_rs) - int(status_of(new_rs).get("availableReplicas") or 0)
    return all_pods - min_available - new_unavailable


def is_scaling_event(d: Obj, rses: list[Obj]) -> bool:
    """An active RS was sized for another `spec.replicas` (its desired-replicas annotation)."""
    for rs in rses:
        desired = meta.annotations(rs).get(DESIRED_REPLICAS)
        if replicas_of(rs) > 0 and desired is not None and desired != str(replicas_of(d)):
            return True
    return False


def proportional_targets(d: Obj, active: list[Obj]) -> dict[str, int]:
    """Spread a replicas change over several active RSes in proportion to their size
    (upstream `scale`): the total may reach replicas + maxSurge; leftovers go to the largest."""
    surge, _ = rolling_params(d)
    current = sum(replicas_of(rs) for rs in active)
    to_add = replicas_of(d) + surge - current
    ordered = sorted(active, key=lambda rs: (replicas_of(rs), revision_of(rs)), reverse=True)
    targets, given = {}, 0
    for rs in ordered:
        share = int(replicas_of(rs) * to_add / current) if current else 0
        targets[meta.uid(rs)] = replicas_of(rs) + share
        given += share
    if ordered:
        first = meta.uid(ordered[0])
        targets[first] = max(targets[first] + to_add - given, 0)
    return targets
