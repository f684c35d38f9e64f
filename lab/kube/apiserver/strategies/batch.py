"""Jobs and CronJobs (upstream `pkg/registry/batch` and `pkg/apis/batch/validation`):
defaults, the generated `batch.kubernetes.io/controller-uid` selector and template labels,
validation of counts, modes, policies and schedules, immutability on update, and the
`kubectl get jobs` / `kubectl get cronjobs` tables."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lab.kube.apiserver.printers import age, human_duration, joined, label_selector_text
from lab.kube.apiserver.strategies import validation as v
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.apiserver.strategies.pods import default_template, validate_pod_spec
from lab.kube.machinery import catalog, cron, meta
from lab.kube.machinery.errors import BadRequest, Cause
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID, LEGACY_JOB_NAME = "controller-uid", "job-name"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
MAX_INT32 = 2**31 - 1
MAX_INDEXED = 100_000  # completions and parallelism of an Indexed Job without backoffLimitPerIndex
COMPLETION_MODES = ["NonIndexed", "Indexed"]
REPLACEMENT_POLICIES = ["TerminatingOrFailed", "Failed"]
FAILURE_ACTIONS = ["FailJob", "FailIndex", "Ignore", "Count"]
IMMUTABLE = ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "selector", "manualSelector")
WIDE = [column("Containers", priority=1, description="Names of each container in the template."),
        column("Images", priority=1, description="Images referenced by each container in the template."),
        column("Selector", priority=1, description="Selector is a label query over pods that should match "
               "the pod count.")]


def default_job_spec(spec: dict[str, Any]) -> None:
    """Upstream `SetDefaults_Job` on a spec (a Job's, or a CronJob's job template's)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    default_template(spec)


def _nonnegative(spec: dict[str, Any], key: str, path: str) -> list[Cause]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return [v.invalid(f"{path}.{key}", value, "must be greater than or equal to 0")]
    return []


def _pod_failure_policy_causes(policy: Any, spec: dict[str, Any], path: str) -> list[Cause]:
    if policy is None:
        return []
    causes: list[Cause] = []
    restart = spec_of(spec.get("template") or {}).get("restartPolicy")
    if restart != "Never":
        causes.append(v.invalid(f"{path}.template.spec.restartPolicy", restart,
                                'only "Never" is supported when podFailurePolicy is specified'))
    for i, rule in enumerate((policy or {}).get("rules") or []):
        at = f"{path}.podFailurePolicy.rules[{i}]"
        if rule.get("action") not in FAILURE_ACTIONS:
            causes.append(v.not_supported(f"{at}.action", rule.get("action"), FAILURE_ACTIONS))
        codes, conditions = rule.get("onExitCodes"), rule.get("onPodConditions")
        if (codes is None) == (conditions is None):
            causes.append(v.invalid(at, "", "specifying one of onExitCodes and onPodConditions is required"))
        if codes is not None:
            if codes.get("operator") not in ("In", "NotIn"):
                causes.append(v.not_supported(f"{at}.onExitCodes.operator", codes.get("operator"), ["In", "NotIn"]))
            values = codes.get("values") or []
            if not values:
                causes.append(v.invalid(f"{at}.onExitCodes.values", values, "at least one value is required"))
            if codes.get("operator") == "In" and 0 in values:
                causes.append(v.invalid(f"{at}.onExitCodes.values[{values.index(0)}]", 0,
                                        "must not be 0 for the In operator"))
    return causes


def validate_job_spec(spec: Any, path: str = "spec", *, in_cron_job: bool = False) -> list[Cause]:
    """Upstream `validateJobSpec` (the selector and template checks of ValidateJob included);
    `in_cron_job`: a CronJob's job template, whose selector and job defaults come later."""
    if not isinstance(spec, dict):
        return [v.required(path)]
    if in_cron_job:
        spec = {"completionMode": "NonIndexed", "podReplacementPolicy": "Failed" if spec.get(
            "podFailurePolicy") else "TerminatingOrFailed", **spec}
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                "backoffLimitPerIndex", "maxFailedIndexes"):
        causes += _nonnegative(spec, key, path)
    mode = spec.get("completionMode")
    if mode not in COMPLETION_MODES:
        causes.append(v.not_supported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed":
        completions = spec.get("completions")
        if completions is None:
            causes.append(v.required(f"{path}.completions", "when completion mode is Indexed"))
        elif spec.get("backoffLimitPerIndex") is None and isinstance(completions, int) and completions > MAX_INDEXED:
            causes.append(v.invalid(f"{path}.completions", completions,
                                    f"must be less than or equal to {MAX_INDEXED} when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > MAX_INDEXED:
            causes.append(v.invalid(f"{path}.parallelism", parallelism,
                                    f"must be less than or equal to {MAX_INDEXED} when completion mode is Indexed"))
    elif spec.get("backoffLimitPerIndex") is not None:
        causes.append(v.forbidden(f"{path}.backoffLimitPerIndex", "requires indexed completion mode"))
    if spec.get("podReplacementPolicy") not in REPLACEMENT_POLICIES:
        causes.append(v.not_supported(f"{path}.podReplacementPolicy", spec.get("podReplacementPolicy"),
                                      REPLACEMENT_POLICIES))
    elif spec.get("podFailurePolicy") and spec["podReplacementPolicy"] != "Failed":
        causes.append(v.not_supported(f"{path}.podReplacementPolicy", spec["podReplacementPolicy"], ["Failed"]))
    causes += _pod_failure_policy_causes(spec.get("podFailurePolicy"), spec, path)
    template = spec.get("template") or {}
    selector = spec.get("selector")
    if not selector:
        if not in_cron_job:
            causes.append(v.required(f"{path}.selector"))
    else:
        try:
            sel = LabelSelector.from_object(selector)
        except BadRequest as exc:
            return [*causes, v.invalid(f"{path}.selector", selector, exc.message)]
        if not sel.matches(meta.labels(template)):
            causes.append(v.invalid(f"{path}.template.metadata.labels", meta.labels(template),
                                    "`selector` does not match template `labels`"))
    restart = spec_of(template).get("restartPolicy")
    if restart not in ("OnFailure", "Never"):
        causes.append(v.not_supported(f"{path}.template.spec.restartPolicy", restart, ["OnFailure", "Never"]))
    if spec_of(template).get("activeDeadlineSeconds") is not None:
        causes.append(v.invalid(f"{path}.template.spec.activeDeadlineSeconds",
                                spec_of(template)["activeDeadlineSeconds"],
                                "activeDeadlineSeconds in ActivePod is not supported"))
    causes += validate_pod_spec(template.get("spec"), f"{path}.template.spec")
    return causes


def generated_selector_causes(job: Obj) -> list[Cause]:
    """Upstream `validateGeneratedSelector`: without manualSelector the selector is ours."""
    spec = spec_of(job)
    if spec.get("manualSelector") is True:
        return []
    uid = meta.uid(job)
    causes: list[Cause] = []
    labels = meta.labels(spec.get("template") or {})
    if labels.get(CONTROLLER_UID) != uid:
        causes.append(v.invalid("spec.template.metadata.labels", labels,
                                f"must be '{CONTROLLER_UID}={uid}'"))
    if spec.get("selector") not in (None, {"matchLabels": {CONTROLLER_UID: uid}}):
        causes.append(v.invalid("spec.selector", spec.get("selector"), "`selector` not auto-generated"))
    return causes


def job_status_text(job: Obj) -> str:
    """The STATUS column (upstream printJob, 1.30+)."""
    types = {c.get("type") for c in status_of(job).get("conditions") or [] if c.get("status") == "True"}
    if "Complete" in types:
        return "Complete"
    if "Failed" in types:
        return "Failed"
    if meta.is_deleting(job):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if kind in types:
            return kind
    return "Running"


def completions_text(job: Obj) -> str:
    spec, succeeded = spec_of(job), int(status_of(job).get("succeeded") or 0)
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def duration_text(job: Obj) -> str:
    status = status_of(job)
    if not status.get("startTime"):
        return ""
    start = meta.parse_time(status["startTime"])
    end = meta.parse_time(status["completionTime"]) if status.get("completionTime") else datetime.now(UTC)
    return human_duration((end - start).total_seconds())


@dataclass
class JobStrategy(Strategy):
    tracks_generation: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_job_spec(spec)

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("manualSelector") is True:
            return
        template = spec.setdefault("template", {})
        if not isinstance(template, dict):
            return
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        if not isinstance(labels, dict):
            return
        uid, name = meta.uid(obj), meta.name(obj)
        for key, value in ((LEGACY_CONTROLLER_UID, uid), (CONTROLLER_UID, uid), (LEGACY_JOB_NAME, name),
                           (JOB_NAME, name)):
            labels.setdefault(key, value)
        spec.setdefault("selector", {"matchLabels": {CONTROLLER_UID: uid}})
        md = obj["metadata"]
        if not md.get("labels"):  # upstream's defaulting: a Job without labels gets its pods'
            md["labels"] = copy.deepcopy(labels)

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_job_spec(obj.get("spec")) + generated_selector_causes(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate(new) + validate_job_spec(new.get("spec"))
        new_spec, old_spec = spec_of(new), spec_of(old)
        for key in IMMUTABLE:
            if new_spec.get(key) != old_spec.get(key):
                causes.append(v.immutable(f"spec.{key}", new_spec.get(key)))
        if new_spec.get("completions") != old_spec.get("completions") and not (
                new_spec.get("completionMode") == "Indexed" and new_spec.get("completions") == new_spec.get(
                    "parallelism") and old_spec.get("completions") == old_spec.get("parallelism")):
            causes.append(v.immutable("spec.completions", new_spec.get("completions")))  # elastic Indexed only
        if new_spec.get("template") != old_spec.get("template") and not _only_scheduling_changed(new, old):
            causes.append(v.immutable("spec.template", new_spec.get("template")))
        return causes

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Status", description="Status of the job."),
                column("Completions", description="The desired number of successfully finished pods the job "
                       "should be run with."),
                column("Duration", description="Time required to complete the job."),
                AGE_COLUMN, *WIDE]

    def row(self, obj: Obj) -> list[Any]:
        spec = spec_of(obj)
        containers = spec_of(spec.get("template") or {}).get("containers") or []
        return [meta.name(obj), job_status_text(obj), completions_text(obj), duration_text(obj), age(obj),
                joined([c.get("name", "") for c in containers]), joined([c.get("image", "") for c in containers]),
                label_selector_text(spec.get("selector"))]


def _only_scheduling_changed(new: Obj, old: Obj) -> bool:
    """A suspended Job that never started may change its pods' scheduling directives (upstream
    `JobMutableSchedulingDirectives`): node selector, affinity, tolerations, labels, annotations."""
    if not spec_of(old).get("suspend") or status_of(old).get("startTime"):
        return False
    strip = ("nodeSelector", "affinity", "tolerations", "schedulingGates")
    a, b = copy.deepcopy(spec_of(new).get("template") or {}), copy.deepcopy(spec_of(old).get("template") or {})
    for t in (a, b):
        t.get("metadata", {}).pop("labels", None)
        t.get("metadata", {}).pop("annotations", None)
        for key in strip:
            (t.get("spec") or {}).pop(key, None)
    return a == b


CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
CRONJOB_NAME_MAX = 52  # 63 less the 11 characters of the scheduled-time suffix of its Jobs' names


def validate_cronjob_spec(spec: Any) -> list[Cause]:
    """Upstream `validateCronJobSpec`."""
    if not isinstance(spec, dict):
        return [v.required("spec")]
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(v.required("spec.schedule"))
    elif not isinstance(schedule, str):
        causes.append(v.invalid("spec.schedule", schedule, "must be a string"))
    elif schedule.lstrip().startswith(("TZ=", "CRON_TZ=")):
        causes.append(v.invalid("spec.schedule", schedule,
                                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    else:
        try:
            cron.parse(schedule)
        except cron.CronError as exc:
            causes.append(v.invalid("spec.schedule", schedule, str(exc)))
    zone_name = spec.get("timeZone")
    if zone_name is not None:
        try:
            if not isinstance(zone_name, str) or not zone_name or zone_name.strip() != zone_name:
                raise cron.CronError(f"unknown time zone {zone_name}")
            cron.zone(zone_name)
        except cron.CronError as exc:
            causes.append(v.invalid("spec.timeZone", zone_name, str(exc)))
    policy = spec.get("concurrencyPolicy")
    if policy not in CONCURRENCY_POLICIES:
        causes.append(v.not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        causes += _nonnegative(spec, key, "spec")
    job_template = spec.get("jobTemplate")
    if not isinstance(job_template, dict):
        return [*causes, v.required("spec.jobTemplate")]
    return causes + validate_job_spec(job_template.get("spec"), "spec.jobTemplate.spec", in_cron_job=True)


@dataclass
class CronJobStrategy(Strategy):
    tracks_generation: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_spec = (spec.get("jobTemplate") or {}).get("spec")
        if isinstance(job_spec, dict):
            default_template(job_spec)

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        name = meta.name(obj)
        if len(name) > CRONJOB_NAME_MAX:
            causes.append(v.invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
        return causes + validate_cronjob_spec(obj.get("spec"))

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Schedule", description="The schedule in Cron format."),
                column("Timezone", description="The time zone name for the given schedule."),
                column("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
                column("Active", "integer", "A list of pointers to currently running jobs."),
                column("Last Schedule", description="Information when was the last time the job was successfully "
                       "scheduled."),
                AGE_COLUMN, *WIDE]

    def row(self, obj: Obj) -> list[Any]:
        spec, status = spec_of(obj), status_of(obj)
        job_spec = spec_of(spec.get("jobTemplate") or {})
        containers = spec_of(job_spec.get("template") or {}).get("containers") or []
        last = status.get("lastScheduleTime")
        last_text = human_duration((datetime.now(UTC) - meta.parse_time(last)).total_seconds()) if last else "<none>"
        suspend = spec.get("suspend")
        return [meta.name(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
                "<unset>" if suspend is None else str(bool(suspend)), len(status.get("active") or []), last_text,
                age(obj), joined([c.get("name", "") for c in containers]),
                joined([c.get("image", "") for c in containers]), label_selector_text(job_spec.get("selector"))]


JOBS = JobStrategy(catalog.JOBS)
CRONJOBS = CronJobStrategy(catalog.CRONJOBS)
