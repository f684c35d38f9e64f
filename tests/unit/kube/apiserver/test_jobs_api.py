"""batch/v1 Jobs through the API: upstream's defaults and generated selector, 422s with
upstream's causes, what an update may not change, and the `kubectl get jobs` table."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.strategies.batch import CRONJOBS, JOBS, completions_text, job_status_text
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.catalog import Resource


def job(name: str = "pi", restart: str = "Never", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    template: dict[str, Any] = {"spec": {"restartPolicy": restart,
                                         "containers": [{"name": "pi", "image": "perl:5.34"}]}}
    if labels:
        template["metadata"] = {"labels": labels}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {"template": template, **spec}}


async def create(body: dict[str, Any], res: Resource = catalog.JOBS) -> dict[str, Any]:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        return await client.create(res, body, "default")


async def refused(body: dict[str, Any], res: Resource = catalog.JOBS) -> list[tuple[str, str]]:
    with pytest.raises(errors.APIError) as exc:
        await create(body, res)
    assert exc.value.code == 422, exc.value
    return [(c.field, c.message) for c in exc.value.causes]


async def test_a_job_gets_upstreams_defaults_and_a_generated_selector() -> None:
    stored = await create(job())
    spec, uid = stored["spec"], stored["metadata"]["uid"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"], spec["completionMode"],
            spec["suspend"], spec["podReplacementPolicy"]) == (1, 1, 6, "NonIndexed", False, "TerminatingOrFailed")
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels == {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
                      "controller-uid": uid, "job-name": "pi"}
    assert stored["metadata"]["labels"] == labels and stored["metadata"]["generation"] == 1
    parallel = await create(job(parallelism=3))
    assert "completions" not in parallel["spec"] and parallel["spec"]["parallelism"] == 3


async def test_bad_jobs_get_upstreams_causes() -> None:
    assert ("spec.template.spec.restartPolicy", 'Unsupported value: "Always": supported values: "OnFailure", "Never"'
            ) in await refused(job(restart="Always"))
    assert ("spec.completions", "Invalid value: -1: must be greater than or equal to 0") in await refused(
        job(completions=-1))
    assert ("spec.completions", "Required value: when completion mode is Indexed") in await refused(
        job(completionMode="Indexed", parallelism=2))
    causes = await refused(job(manualSelector=True, selector={"matchLabels": {"app": "a"}}, labels={"app": "b"}))
    assert [f for f, _ in causes] == ["spec.template.metadata.labels"]
    assert "`selector` does not match template `labels`" in causes[0][1]
    assert ("spec.selector", 'Invalid value: {"matchLabels":{"app":"a"}}: `selector` not auto-generated') in [
        (f, m.replace(", ", ",")) for f, m in await refused(job(selector={"matchLabels": {"app": "a"}},
                                                                labels={"app": "a"}))]


async def test_the_template_and_completions_do_not_change_on_update() -> None:
    async with InMemoryAPI(Settings(insecure_anonymous_admin=True)) as api, Client(api.config) as client:
        stored = await client.create(catalog.JOBS, job(), "default")
        changed = {**stored, "spec": {**stored["spec"], "completions": 2}}
        changed["spec"]["template"] = {**stored["spec"]["template"], "spec": {
            **stored["spec"]["template"]["spec"], "containers": [{"name": "pi", "image": "perl:5.36"}]}}
        with pytest.raises(errors.APIError) as exc:
            await client.update(catalog.JOBS, changed)
        fields = sorted(c.field for c in exc.value.causes)
        assert fields == ["spec.completions", "spec.template"]
        scaled = await client.update(catalog.JOBS, {**stored, "spec": {**stored["spec"], "parallelism": 4}})
        assert scaled["spec"]["parallelism"] == 4 and scaled["metadata"]["generation"] == 2


def test_the_table_reads_as_kubectl_get_jobs() -> None:
    assert [c["name"] for c in JOBS.columns()] == ["Name", "Status", "Completions", "Duration", "Age",
                                                   "Containers", "Images", "Selector"]
    done = {"metadata": {"name": "pi", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}},
                     "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}}},
            "status": {"succeeded": 1, "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:07Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}}
    row = JOBS.row(done)
    assert row[:4] == ["pi", "Complete", "1/1", "7s"]
    assert row[5:] == ["pi", "perl", "batch.kubernetes.io/controller-uid=u"]
    running = {"metadata": {"name": "w"}, "spec": {"parallelism": 3}, "status": {}}
    assert (job_status_text(running), completions_text(running)) == ("Running", "0/1 of 3")
    assert job_status_text({"metadata": {}, "status": {"conditions": [{"type": "Suspended", "status": "True"}]}}) == (
        "Suspended")


def cronjob(name: str = "tick", **spec: Any) -> dict[str, Any]:
    template = job()["spec"]
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": template}, **spec}}


async def test_a_cronjob_gets_upstreams_defaults_and_bad_ones_upstreams_causes() -> None:
    stored = await create(cronjob(), catalog.CRONJOBS)
    spec = stored["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]  # the Job gets those when it is made
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert await refused(cronjob(schedule="61 * * * *"), catalog.CRONJOBS) == [
        ("spec.schedule", 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61')]
    assert await refused(cronjob(schedule="TZ=UTC 0 * * * *"), catalog.CRONJOBS) == [
        ("spec.schedule", 'Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone '
                          'field instead')]
    assert await refused(cronjob(timeZone="Mars/Olympus"), catalog.CRONJOBS) == [
        ("spec.timeZone", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus')]
    assert await refused(cronjob(concurrencyPolicy="Sometimes"), catalog.CRONJOBS) == [
        ("spec.concurrencyPolicy", 'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"')]
    long_name = "x" * 53
    assert await refused(cronjob(long_name), catalog.CRONJOBS) == [
        ("metadata.name", f'Invalid value: "{long_name}": must be no more than 52 characters')]
    assert ("spec.jobTemplate.spec.template.spec.restartPolicy",
            'Unsupported value: "Always": supported values: "OnFailure", "Never"') in await refused(
        {**cronjob(), "spec": {**cronjob()["spec"], "jobTemplate": {"spec": job(restart="Always")["spec"]}}},
        catalog.CRONJOBS)


def test_the_cronjob_table_reads_as_kubectl_get_cronjobs() -> None:
    assert [c["name"] for c in CRONJOBS.columns()][:7] == ["Name", "Schedule", "Timezone", "Suspend", "Active",
                                                          "Last Schedule", "Age"]
    row = CRONJOBS.row({"metadata": {"name": "tick", "creationTimestamp": "2026-01-01T00:00:00Z"},
                        "spec": {"schedule": "*/5 * * * *", "suspend": False, "jobTemplate": {"spec": {}}},
                        "status": {}})
    assert row[:6] == ["tick", "*/5 * * * *", "<none>", "False", 0, "<none>"]
