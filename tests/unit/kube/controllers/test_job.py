"""The Job controller against the real API server in memory: pods tracked by finalizer and
counted once, completion, the backoff limit, Indexed jobs, suspend and resume, orphaned pods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.controllers.job import JobController
from lab.kube.controllers.job_pods import (
    TRACKING_FINALIZER,
    backoff_remaining,
    format_indexes,
    parse_indexes,
)
from lab.kube.controllers.ttl_after_finished import TTLAfterFinishedController, seconds_left
from lab.kube.machinery import catalog, errors
from tests.support import eventually
from tests.unit.kube.controllers.harness import running


def job(name: str, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "work", "image": "busybox:1.36"}]}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
            "spec": {"template": template, **spec}}


async def pods_of(api: InMemoryAPI, name: str) -> list[dict[str, Any]]:
    return [p for p in await api.objects(catalog.PODS, "default")
            if p["metadata"].get("labels", {}).get("batch.kubernetes.io/job-name") == name]


async def finish(api: InMemoryAPI, pod: dict[str, Any], phase: str) -> None:
    """What the kubelet reports when the pod's containers exit."""
    for _ in range(10):
        current = await api.object(catalog.PODS, pod["metadata"]["name"], "default")
        assert current is not None
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        current["status"] = {"phase": phase, "containerStatuses": [{
            "name": "work", "image": "busybox:1.36", "imageID": "", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": stamp}}}]}
        try:
            await api.update(catalog.PODS, current, subresource="status")
            return
        except errors.Conflict:
            continue


async def status(api: InMemoryAPI, name: str) -> dict[str, Any]:
    got = await api.object(catalog.JOBS, name, "default")
    assert got is not None
    return dict(got.get("status") or {})


def conditions(st: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in st.get("conditions") or []}


def test_indexes_read_and_write_as_upstreams_intervals() -> None:
    assert parse_indexes("1,3-5,9", 6) == {1, 3, 4, 5}
    assert format_indexes({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7"
    assert format_indexes(set()) == ""


def test_replacements_back_off_ten_seconds_doubling_since_the_last_failure() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def finished(phase: str, seconds_ago: int) -> dict[str, Any]:
        stamp = (now - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"metadata": {}, "status": {"phase": phase, "containerStatuses": [
            {"state": {"terminated": {"finishedAt": stamp}}}]}}
    j = job("j")
    assert backoff_remaining(j, [], now) == 0.0
    assert backoff_remaining(j, [finished("Failed", 4)], now) == 6.0
    assert backoff_remaining(j, [finished("Failed", 30), finished("Failed", 5)], now) == 15.0  # 20 s for two
    assert backoff_remaining(j, [finished("Failed", 30), finished("Succeeded", 20)], now) == 0.0


async def test_pods_run_parallelism_at_a_time_until_completions_succeed() -> None:
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("pi", completions=3, parallelism=2))
        first = await eventually(lambda: _count(pods_of(api, "pi"), 2), 5, "two pods")
        pod = first[0]
        assert pod["metadata"]["finalizers"] == [TRACKING_FINALIZER]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
        assert pod["metadata"]["generateName"] == "pi-"
        for p in first:
            await finish(api, p, "Succeeded")
        await eventually(lambda: _field(status(api, "pi"), "succeeded", 2), 5, "two counted")
        released = [p for p in await pods_of(api, "pi") if p["status"].get("phase") == "Succeeded"]
        assert all(not p["metadata"].get("finalizers") for p in released)
        third = await eventually(lambda: _count(pods_of(api, "pi"), 3), 5, "the third pod")
        await finish(api, next(p for p in third if p["status"].get("phase") != "Succeeded"), "Succeeded")
        done = await eventually(lambda: _condition(status(api, "pi"), "Complete"), 5, "Complete")
        assert done["succeeded"] == 3 and done["active"] == 0 and done["completionTime"] and done["startTime"]
        assert done["uncountedTerminatedPods"] == {} and done["failed"] == 0
        events = {e["reason"] for e in await api.objects(catalog.EVENTS, "default")}
        assert {"SuccessfulCreate", "Completed"} <= events


async def test_a_failing_pod_past_the_backoff_limit_fails_the_job() -> None:
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("doomed", backoffLimit=0))
        [pod] = await eventually(lambda: _count(pods_of(api, "doomed"), 1), 5, "the pod")
        await finish(api, pod, "Failed")
        failed = await eventually(lambda: _condition(status(api, "doomed"), "Failed"), 5, "Failed")
        cond = conditions(failed)["Failed"]
        assert (cond["reason"], cond["message"]) == (
            "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        assert failed["failed"] == 1
        assert len(await pods_of(api, "doomed")) == 1  # no replacement


async def test_an_indexed_job_runs_each_index_once() -> None:
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("idx", completions=3, parallelism=3, completionMode="Indexed"))
        pods = await eventually(lambda: _count(pods_of(api, "idx"), 3), 5, "three pods")
        by_index = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p for p in pods}
        assert sorted(by_index) == ["0", "1", "2"]
        one = by_index["1"]
        assert one["spec"]["hostname"] == "idx-1" and one["metadata"]["generateName"] == "idx-1-"
        assert one["spec"]["containers"][0]["env"][0]["name"] == "JOB_COMPLETION_INDEX"
        await finish(api, one, "Succeeded")
        await eventually(lambda: _field(status(api, "idx"), "completedIndexes", "1"), 5, "index 1 done")
        for index in ("0", "2"):
            await finish(api, by_index[index], "Succeeded")
        done = await eventually(lambda: _condition(status(api, "idx"), "Complete"), 5, "Complete")
        assert done["completedIndexes"] == "0-2" and done["succeeded"] == 3


async def test_a_suspended_job_runs_nothing_until_resumed() -> None:
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("later", suspend=True))
        st = await eventually(lambda: _condition(status(api, "later"), "Suspended"), 5, "Suspended")
        assert conditions(st)["Suspended"]["reason"] == "JobSuspended" and "startTime" not in st
        assert await pods_of(api, "later") == []
        current = await api.object(catalog.JOBS, "later", "default")
        assert current is not None
        current["spec"]["suspend"] = False
        await api.update(catalog.JOBS, current)
        await eventually(lambda: _count(pods_of(api, "later"), 1), 5, "the pod once resumed")
        st = await status(api, "later")
        suspended = conditions(st)["Suspended"]
        assert (suspended["status"], suspended["reason"]) == ("False", "JobResumed")


async def test_a_deleted_jobs_pods_lose_the_tracking_finalizer() -> None:
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("gone"))
        [pod] = await eventually(lambda: _count(pods_of(api, "gone"), 1), 5, "the pod")
        await api.delete(catalog.JOBS, "gone", "default", propagation_policy="Orphan")

        async def released() -> bool:
            p = await api.object(catalog.PODS, pod["metadata"]["name"], "default")
            return p is not None and not p["metadata"].get("finalizers")
        await eventually(released, 5, "the finalizer removed")


async def test_a_finished_job_with_a_ttl_is_deleted_after_it() -> None:
    now = datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)
    done = {"metadata": {}, "spec": {"ttlSecondsAfterFinished": 30}, "status": {"conditions": [
        {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}
    assert seconds_left(done, now) == 20.0
    assert seconds_left({**done, "spec": {}}, now) is None
    assert seconds_left({**done, "status": {}}, now) is None  # not finished
    async with running(JobController, TTLAfterFinishedController) as (api, _):
        await api.seed(catalog.JOBS, job("brief", ttlSecondsAfterFinished=1))
        [pod] = await eventually(lambda: _count(pods_of(api, "brief"), 1), 5, "the pod")
        await finish(api, pod, "Succeeded")
        await eventually(lambda: _condition(status(api, "brief"), "Complete"), 5, "Complete")

        async def deleted() -> bool:
            got = await api.object(catalog.JOBS, "brief", "default")
            return got is None or bool(got["metadata"].get("deletionTimestamp"))
        await eventually(deleted, 5, "the job deleted a second after it finished")


async def _count(pods: Any, n: int) -> list[dict[str, Any]] | None:
    got: list[dict[str, Any]] = await pods
    return got if len(got) == n else None


async def _field(st: Any, key: str, want: Any) -> bool:
    return bool((await st).get(key) == want)


async def _condition(st: Any, kind: str) -> dict[str, Any] | None:
    got: dict[str, Any] = await st
    return got if conditions(got).get(kind, {}).get("status") == "True" else None


async def fail_with(api: InMemoryAPI, pod: dict[str, Any], code: int) -> None:
    current = await api.object(catalog.PODS, pod["metadata"]["name"], "default")
    assert current is not None
    current["status"] = {"phase": "Failed", "containerStatuses": [{
        "name": "work", "image": "busybox:1.36", "imageID": "", "ready": False, "restartCount": 0,
        "state": {"terminated": {"exitCode": code, "finishedAt": "2026-01-01T00:00:00Z"}}}]}
    await api.update(catalog.PODS, current, subresource="status")


async def test_a_pod_failure_policy_fails_the_job_on_fail_job_and_ignores_on_ignore() -> None:
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
                        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]}
    async with running(JobController) as (api, _):
        await api.seed(catalog.JOBS, job("picky", parallelism=2, completions=2, podFailurePolicy=policy))
        first, second = await eventually(lambda: _count(pods_of(api, "picky"), 2), 5, "two pods")
        await fail_with(api, first, 3)  # ignored: replaced at once, not counted
        pods = await eventually(lambda: _count(pods_of(api, "picky"), 3), 5, "a replacement without back-off")
        assert (await status(api, "picky")).get("failed", 0) == 0
        await fail_with(api, second, 42)
        st = await eventually(lambda: _condition(status(api, "picky"), "FailureTarget"), 5, "FailureTarget")
        target = conditions(st)["FailureTarget"]
        assert target["reason"] == "PodFailurePolicy"
        assert target["message"] == (f"Container work for pod default/{second['metadata']['name']} failed with "
                                     "exit code 42 matching FailJob rule at index 0")
        assert "Failed" not in conditions(st)  # the third pod is still stopping
        third = next(p for p in pods if p["metadata"]["name"] not in (first["metadata"]["name"],
                                                                      second["metadata"]["name"]))
        stopping = await api.object(catalog.PODS, third["metadata"]["name"], "default")
        assert stopping is not None and stopping["metadata"].get("deletionTimestamp")
        await fail_with(api, third, 137)  # the kubelet stopped it
        st = await eventually(lambda: _condition(status(api, "picky"), "Failed"), 5, "Failed")
        assert conditions(st)["Failed"]["reason"] == "PodFailurePolicy"
