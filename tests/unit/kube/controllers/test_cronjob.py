"""CronJobs: robfig/cron's schedule syntax, and the controller creating one Job per scheduled
time, honouring Forbid, counting completions and trimming history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers.cronjob import SCHEDULED_TIMESTAMP, CronJobController, job_name, most_recent_unmet
from lab.kube.machinery import catalog, cron, meta
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_schedules_fire_when_upstreams_parser_says() -> None:
    weekdays = cron.parse("*/15 9-17 * * mon-fri")
    assert weekdays.next_after(at("2026-12-04T17:50:00")) == at("2026-12-07T09:00:00")  # Friday evening -> Monday
    assert cron.parse("@hourly").next_after(at("2026-12-04T17:50:00")) == at("2026-12-04T18:00:00")
    assert cron.parse("0 0 1,15 * 5").next_after(at("2026-12-02T00:00:00")) == at("2026-12-04T00:00:00")  # OR
    assert cron.parse("5 4 * * 7").next_after(at("2026-12-04T00:00:00")) == at("2026-12-06T04:05:00")  # 7 = Sunday
    assert cron.parse("0 0 30 2 *").next_after(at("2026-01-01T00:00:00")) is None
    berlin = cron.zone("Europe/Berlin")
    assert cron.parse("0 9 * * *").next_after(at("2026-12-04T09:30:00").astimezone(berlin)) == datetime(
        2026, 12, 5, 9, 0, tzinfo=berlin)
    for bad, message in (("61 * * * *", "end of range (61) above maximum (59): 61"),
                         ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
                         ("@every-day", "unrecognized descriptor: @every-day"),
                         ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1")):
        with pytest.raises(cron.CronError, match=re.escape(message)):
            cron.parse(bad)


def test_only_the_latest_missed_time_runs() -> None:
    every_minute = cron.parse("* * * * *")
    latest, count = most_recent_unmet(every_minute, at("2026-12-04T10:00:00"), at("2026-12-04T10:05:30"))
    assert (latest, count) == (at("2026-12-04T10:05:00"), 5)
    latest, count = most_recent_unmet(every_minute, at("2026-12-01T00:00:00"), at("2026-12-04T10:05:30"))
    assert latest == at("2026-12-04T10:05:00") and count > 100


def cronjob(name: str, **spec: Any) -> dict[str, Any]:
    pod = {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "tick", "image": "busybox:1.36"}]}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": "default"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"metadata": {"labels": {"app": name}},
                                                           "spec": {"template": pod}}, **spec}}


async def test_one_job_per_scheduled_time_forbid_skips_and_history_is_trimmed() -> None:
    now = [datetime.now(UTC)]

    def controller(client: Any, informers: Any) -> CronJobController:
        return CronJobController(client, informers, clock=lambda: now[0])

    async with running(controller) as (api, [ctl]):
        created = await api.seed(catalog.CRONJOBS, cronjob(
            "tick", concurrencyPolicy="Forbid", successfulJobsHistoryLimit=0))
        born = meta.parse_time(created["metadata"]["creationTimestamp"])
        first = cron.parse("* * * * *").next_after(born)
        assert first is not None
        now[0] = first + timedelta(seconds=5)
        ctl.queue.add("default/tick")
        [job] = await eventually(lambda: _jobs(api, 1), 5, "the first job")
        assert job["metadata"]["name"] == job_name(created, first)
        assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert job["metadata"]["labels"] == {"app": "tick"}
        assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        cj = await eventually(lambda: _with_active(api, 1), 5, "the job active")
        assert cj["status"]["lastScheduleTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")

        now[0] = first + timedelta(minutes=1, seconds=5)  # the next time, while the first runs: Forbid
        ctl.queue.add("default/tick")
        await eventually(lambda: _event(api, "JobAlreadyActive"), 5, "the Forbid event")
        assert len(await api.objects(catalog.JOBS, "default")) == 1

        job["status"] = {"conditions": [{"type": "Complete", "status": "True"}],
                         "completionTime": first.strftime("%Y-%m-%dT%H:%M:%SZ")}
        await api.update(catalog.JOBS, job, subresource="status")
        # the finished job leaves active, the missed time runs at once, and a history limit of 0 deletes it
        jobs = await eventually(lambda: _jobs_named_not(api, meta.name(job)), 5, "the next job, the first deleted")
        assert jobs[0]["metadata"]["name"] == job_name(created, first + timedelta(minutes=1))
        await eventually(lambda: _event(api, "SawCompletedJob"), 5, "SawCompletedJob")
        cj = await eventually(lambda: _with_active(api, 1), 5, "the new job active")
        assert cj["status"]["active"][0]["name"] == jobs[0]["metadata"]["name"]
        assert cj["status"]["lastSuccessfulTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _jobs(api: InMemoryAPI, n: int) -> list[dict[str, Any]] | None:
    jobs = await api.objects(catalog.JOBS, "default")
    return jobs if len(jobs) == n else None


async def _jobs_named_not(api: InMemoryAPI, name: str) -> list[dict[str, Any]] | None:
    jobs = [j for j in await api.objects(catalog.JOBS, "default") if not j["metadata"].get("deletionTimestamp")]
    return jobs if len(jobs) == 1 and jobs[0]["metadata"]["name"] != name else None


async def _with_active(api: InMemoryAPI, n: int) -> dict[str, Any] | None:
    cj = await api.object(catalog.CRONJOBS, "tick", "default")
    return cj if cj is not None and len((cj.get("status") or {}).get("active") or []) == n else None


async def _event(api: InMemoryAPI, reason: str) -> bool:
    return any(e.get("reason") == reason for e in await api.objects(catalog.EVENTS, "default"))
