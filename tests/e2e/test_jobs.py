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
