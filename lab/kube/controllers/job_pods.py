"""What the Job controller decides from its pods, as pure functions (upstream
`pkg/controller/job`: `indexed_job_utils.go`, `backoff_utils.go`, the pod builders): which pods
count as succeeded or failed, completion indexes and their `1,3-5` text, the pod failure back-off,
and the pods a Job creates."""

from __future__ import annotations

import copy
from datetime import datetime

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
BACKOFF_BASE, BACKOFF_MAX = 10.0, 600.0  # upstream DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff


def only_replace_failed(job: Obj) -> bool:
    return spec_of(job).get("podReplacementPolicy") == "Failed" or bool(spec_of(job).get("podFailurePolicy"))


def is_succeeded(pod: Obj) -> bool:
    return status_of(pod).get("phase") == "Succeeded"


def is_failed(pod: Obj, job: Obj) -> bool:
    """Upstream `isPodFailed`: Failed, or (replacing terminating pods) deleted before it succeeded,
    so an orphaned pod that never reaches a phase still counts."""
    if status_of(pod).get("phase") == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return meta.is_deleting(pod) and not is_succeeded(pod)


def is_finished(pod: Obj, job: Obj) -> bool:
    return is_succeeded(pod) or is_failed(pod, job)


def completion_index(pod: Obj) -> int | None:
    """The pod's index from its annotation (or label), None when absent or malformed."""
    value = meta.annotations(pod).get(COMPLETION_INDEX) or meta.labels(pod).get(COMPLETION_INDEX)
    if value is None or not value.isdigit():
        return None
    return int(value)


def parse_indexes(text: str, completions: int) -> set[int]:
    """`1,3-5` -> {1, 3, 4, 5}; indexes at or past `completions` dropped."""
    out: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            continue
        out.update(i for i in range(lo, hi + 1) if i < completions)
    return out


def format_indexes(indexes: set[int]) -> str:
    """{1, 3, 4, 5} -> `1,3-5` (upstream's compressed interval text)."""
    parts: list[str] = []
    ordered = sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def finish_time(pod: Obj) -> datetime | None:
    """When the pod finished: its containers' latest finishedAt, else its Ready condition's change."""
    stamps = [s.get("state", {}).get("terminated", {}).get("finishedAt")
              for s in status_of(pod).get("containerStatuses") or []]
    stamps = [s for s in stamps if s]
    if stamps:
        return max(meta.parse_time(s) for s in stamps)
    for c in status_of(pod).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("lastTransitionTime"):
            return meta.parse_time(c["lastTransitionTime"])
    return None


def backoff_remaining(job: Obj, pods: list[Obj], now: datetime) -> float:
    """Seconds until a failed pod may be replaced (upstream `getRemainingTime` of the back-off
    record): 10 s doubled per failure in a row since the last success, at most 10 minutes,
    counted from the last failure. Failures a podFailurePolicy Ignores do not count."""
    finished = [(finish_time(p), is_succeeded(p)) for p in pods
                if is_finished(p, job) and (failure_rule(job, p) or ("",))[0] != "Ignore"]
    timed = sorted(((t, ok) for t, ok in finished if t is not None), key=lambda x: x[0])
    failures, last = 0, None
    for t, ok in timed:
        if ok:
            failures, last = 0, None
        else:
            failures, last = failures + 1, t
    if failures == 0 or last is None:
        return 0.0
    delay = min(BACKOFF_BASE * 2.0 ** (failures - 1), BACKOFF_MAX)
    return max(0.0, delay - (now - last).total_seconds())


def restarts_past_limit(job: Obj, active: list[Obj]) -> bool:
    """Upstream `pastBackoffLimitOnFailure`: with restartPolicy OnFailure the container
    restarts of the active pods count against backoffLimit."""
    template = spec_of(spec_of(job).get("template") or {})
    if template.get("restartPolicy") != "OnFailure":
        return False
    limit = int(spec_of(job).get("backoffLimit") or 0)
    restarts = sum(int(s.get("restartCount") or 0) for p in active
                   for key in ("initContainerStatuses", "containerStatuses") for s in status_of(p).get(key) or [])
    return restarts > 0 if limit == 0 else restarts >= limit


def pod_for(job: Obj, index: int | None) -> Obj:
    """A pod from the Job's template: owned, with the tracking finalizer, and for an Indexed
    Job its index as annotation, label, `JOB_COMPLETION_INDEX` and hostname `<job>-<index>`."""
    template = spec_of(job).get("template") or {}
    tmeta = meta.metadata(template)
    name = meta.name(job)
    md: Obj = {"generateName": f"{name}-" if index is None else f"{name}-{index}-",
               "namespace": meta.namespace(job), "labels": dict(tmeta.get("labels") or {}),
               "annotations": dict(tmeta.get("annotations") or {}), "finalizers": [TRACKING_FINALIZER],
               "ownerReferences": [meta.new_controller_ref(job)]}
    spec = copy.deepcopy(spec_of(template))
    if index is not None:
        md["annotations"][COMPLETION_INDEX] = str(index)
        md["labels"][COMPLETION_INDEX] = str(index)
        spec.setdefault("hostname", f"{name}-{index}")
        env = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}}
        for key in ("initContainers", "containers"):
            for c in spec.get(key) or []:
                if not any(e.get("name") == INDEX_ENV for e in c.get("env") or []):
                    c["env"] = [*(c.get("env") or []), env]
    if not md["annotations"]:
        del md["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def failure_rule(job: Obj, pod: Obj) -> tuple[str, str] | None:
    """Upstream `matchPodFailurePolicy` for a Failed pod: the first matching rule's action and
    upstream's message, None when no rule matches (the failure then counts)."""
    policy = spec_of(job).get("podFailurePolicy") or {}
    if status_of(pod).get("phase") != "Failed":
        return None
    where = f"{meta.namespace(pod)}/{meta.name(pod)}"
    statuses = [*(status_of(pod).get("initContainerStatuses") or []), *(status_of(pod).get("containerStatuses") or [])]
    for i, rule in enumerate(policy.get("rules") or []):
        action = str(rule.get("action") or "")
        if (codes := rule.get("onExitCodes")) is not None:
            for s in statuses:
                code = ((s.get("state") or {}).get("terminated") or {}).get("exitCode")
                if code in (None, 0) or codes.get("containerName") not in (None, s.get("name")):
                    continue
                if (code in (codes.get("values") or [])) == (codes.get("operator") == "In"):
                    return action, (f"Container {s.get('name')} for pod {where} failed with exit code {code} "
                                    f"matching {action} rule at index {i}")
        for pattern in rule.get("onPodConditions") or []:
            for c in status_of(pod).get("conditions") or []:
                if c.get("type") == pattern.get("type") and c.get("status") == pattern.get("status", "True"):
                    return action, f"Pod {where} has condition {c.get('type')} matching {action} rule at index {i}"
    return None
