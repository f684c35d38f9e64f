"""Jobs on the lab with kubectl 1.27 and 1.33: `kubectl create job` runs its pod on a worker to
Complete (and `kubectl logs job/<name>` shows its output); a Job whose pod exits non-zero with
backoffLimit 0 fails with BackoffLimitExceeded, as upstream's."""

from __future__ import annotations

import json

import pytest

from tests.e2e.labdriver import Lab
from tests.e2e.test_walking_skeleton import web_image

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("minor", [27, 33])
def test_create_job_completes_and_a_failing_one_fails(lab: Lab, minor: int) -> None:
    ns = f"jobs-{minor}"
    lab.kubectl("delete", "namespace", ns, "--ignore-not-found", "--timeout=150s", timeout=180)
    lab.kubectl("create", "namespace", ns, minor=minor)
    lab.kubectl("-n", ns, "create", "job", "hello", f"--image={web_image(lab)}", "--", "sh", "-c",
                "echo hello from the job", minor=minor)
    lab.kubectl("-n", ns, "wait", "--for=condition=complete", "job/hello", "--timeout=120s", minor=minor,
                timeout=150)
    row = lab.kubectl("-n", ns, "get", "job", "hello", "--no-headers", minor=minor).stdout.split()
    assert row[:3] == ["hello", "Complete", "1/1"], row
    assert lab.kubectl("-n", ns, "logs", "job/hello", minor=minor).stdout.strip() == "hello from the job"

    body = json.loads(lab.kubectl("-n", ns, "create", "job", "doomed", f"--image={web_image(lab)}",
                                  "--dry-run=client", "-o", "json", "--", "sh", "-c", "exit 3", minor=minor).stdout)
    body["spec"]["backoffLimit"] = 0
    lab.kubectl("-n", ns, "create", "-f", "-", stdin=json.dumps(body), minor=minor)
    lab.kubectl("-n", ns, "wait", "--for=condition=failed", "job/doomed", "--timeout=120s", minor=minor,
                timeout=150)
    job = lab.get_json("-n", ns, "job", "doomed")
    failed = {c["type"]: c for c in job["status"]["conditions"]}["Failed"]
    assert failed["reason"] == "BackoffLimitExceeded" and job["status"]["failed"] == 1, job["status"]
    lab.kubectl("delete", "namespace", ns, "--timeout=150s", minor=minor, timeout=180)


def test_a_cronjob_runs_on_schedule_and_create_job_from_it_runs_at_once(lab: Lab) -> None:
    ns = "cron"
    lab.kubectl("delete", "namespace", ns, "--ignore-not-found", "--timeout=150s", timeout=180)
    lab.kubectl("create", "namespace", ns)
    lab.kubectl("-n", ns, "create", "cronjob", "tick", f"--image={web_image(lab)}", "--schedule=* * * * *", "--",
                "sh", "-c", "echo tick", minor=27)
    lab.kubectl("-n", ns, "create", "job", "manual", "--from=cronjob/tick", minor=33)
    lab.kubectl("-n", ns, "wait", "--for=condition=complete", "job/manual", "--timeout=120s", timeout=150)

    def scheduled_done() -> list[dict[str, object]] | None:
        jobs = [j for j in lab.get_json("-n", ns, "jobs")["items"] if j["metadata"]["name"].startswith("tick-")]
        done = [j for j in jobs if any(c["type"] == "Complete" and c["status"] == "True"
                                       for c in j["status"].get("conditions") or [])]
        return done or None
    [job, *_] = lab.wait("a scheduled job complete", scheduled_done, timeout=150, interval=3)
    assert job["metadata"]["ownerReferences"][0]["name"] == "tick"
    row = lab.kubectl("-n", ns, "get", "cronjob", "tick", "--no-headers").stdout.split()
    assert row[:4] == ["tick", "*", "*", "*"] and row[6:8] == ["<none>", "False"], row  # schedule, TZ, suspend
    status = lab.get_json("-n", ns, "cronjob", "tick")["status"]
    assert status.get("lastScheduleTime") and status.get("lastSuccessfulTime"), status
    lab.kubectl("delete", "namespace", ns, "--timeout=150s", timeout=180)
