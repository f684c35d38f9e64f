"""batch/v1 definitions: Job (with the pod failure and success policies it carries) and CronJob."""

from __future__ import annotations

from .core_v1 import OBJECT_REFERENCE
from .core_v1_pod import POD_TEMPLATE_SPEC
from .meta_v1 import LABEL_SELECTOR, OBJECT_META, TIME
from .types import I32, I64, Arr, B, Desc, Group, S

batch = Group("io.k8s.api.batch.v1")

_ON_EXIT_CODES = batch.define("PodFailurePolicyOnExitCodesRequirement", {
    "containerName": S, "operator": S, "values": Arr(I32, list_type="set"),
}, required=("operator", "values"))
_ON_POD_CONDITIONS = batch.define("PodFailurePolicyOnPodConditionsPattern", {"status": S, "type": S},
                                  required=("type",))
_POD_FAILURE_POLICY = batch.define("PodFailurePolicy", {
    "rules": Arr(batch.define("PodFailurePolicyRule", {
        "action": S, "onExitCodes": _ON_EXIT_CODES, "onPodConditions": Arr(_ON_POD_CONDITIONS, list_type="atomic"),
    }, required=("action",)), list_type="atomic"),
}, required=("rules",))
_SUCCESS_POLICY = batch.define("SuccessPolicy", {
    "rules": Arr(batch.define("SuccessPolicyRule", {"succeededCount": I32, "succeededIndexes": S}),
                 list_type="atomic"),
}, required=("rules",))

JOB_SPEC = batch.define("JobSpec", {
    "activeDeadlineSeconds": I64, "backoffLimit": Desc(I32, "Number of retries before marking this job failed. "
                                                      "Defaults to 6."),
    "backoffLimitPerIndex": I32, "completionMode": S, "completions": I32, "managedBy": S, "manualSelector": B,
    "maxFailedIndexes": I32, "parallelism": I32, "podFailurePolicy": _POD_FAILURE_POLICY,
    "podReplacementPolicy": S, "selector": LABEL_SELECTOR, "successPolicy": _SUCCESS_POLICY, "suspend": B,
    "template": Desc(POD_TEMPLATE_SPEC, "Describes the pod that will be created when executing a job."),
    "ttlSecondsAfterFinished": I32,
}, required=("template",), desc="JobSpec describes how the job execution will look like.")

_CONDITION = batch.define("JobCondition", {
    "lastProbeTime": TIME, "lastTransitionTime": TIME, "message": S, "reason": S, "status": S, "type": S,
}, required=("type", "status"))

batch.define("Job", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META, "spec": JOB_SPEC,
    "status": batch.define("JobStatus", {
        "active": I32, "completedIndexes": S, "completionTime": TIME,
        "conditions": Arr(_CONDITION, list_type="atomic"), "failed": I32, "failedIndexes": S, "ready": I32,
        "startTime": TIME, "succeeded": I32, "terminating": I32,
        "uncountedTerminatedPods": batch.define("UncountedTerminatedPods", {
            "failed": Arr(S, list_type="set"), "succeeded": Arr(S, list_type="set")}),
    }, desc="JobStatus represents the current state of a Job."),
}, desc="Job represents the configuration of a single job.", gvk=("batch", "v1", "Job"))

batch.define("CronJob", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": batch.define("CronJobSpec", {
        "concurrencyPolicy": Desc(S, "Specifies how to treat concurrent executions of a Job: Allow, Forbid or "
                                     "Replace."),
        "failedJobsHistoryLimit": I32,
        "jobTemplate": batch.define("JobTemplateSpec", {"metadata": OBJECT_META, "spec": JOB_SPEC},
                                    desc="JobTemplateSpec describes the data a Job should have when created "
                                         "from a template"),
        "schedule": Desc(S, "The schedule in Cron format."), "startingDeadlineSeconds": I64,
        "successfulJobsHistoryLimit": I32, "suspend": B, "timeZone": S,
    }, required=("schedule", "jobTemplate"), desc="CronJobSpec describes how the job execution will look like "
                                                   "and when it will actually run."),
    "status": batch.define("CronJobStatus", {
        "active": Arr(OBJECT_REFERENCE, list_type="atomic"), "lastScheduleTime": TIME, "lastSuccessfulTime": TIME,
    }),
}, desc="CronJob represents the configuration of a single cron job.", gvk=("batch", "v1", "CronJob"))
