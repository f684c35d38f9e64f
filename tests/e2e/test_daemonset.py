"""DaemonSets on the lab: a pod on every worker, `kubectl rollout status/history/undo` over
ControllerRevisions (kubectl 1.27 and 1.33)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.labdriver import Lab
from tests.e2e.test_walking_skeleton import WORKERS, web_image

pytestmark = pytest.mark.e2e
NS = "daemons"


def test_a_daemonset_runs_on_every_worker_and_rolls_back(lab: Lab) -> None:
    lab.kubectl("delete", "namespace", NS, "--ignore-not-found", "--timeout=150s", timeout=180)
    lab.kubectl("create", "namespace", NS)
    # right after `lab up` a restarted kubelet may still be NotReady (tainted not-ready:NoSchedule,
    # which daemon pods do not tolerate, as upstream's): start from Ready, untainted workers
    lab.wait("both workers Ready and untainted", lambda: all(
        not (n.get("spec") or {}).get("taints") and any(
            c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
        for n in lab.get_json("nodes")["items"] if n["metadata"]["name"] in WORKERS), timeout=120)
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NS},
          "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
              "metadata": {"labels": {"app": "agent"}},
              "spec": {"terminationGracePeriodSeconds": 2,
                       "containers": [{"name": "agent", "image": web_image(lab)}]}}}}
    lab.kubectl("apply", "-f", "-", stdin=json.dumps(ds), minor=27)
    lab.kubectl("-n", NS, "rollout", "status", "ds/agent", "--timeout=150s", minor=33, timeout=180)
    pods = [p for p in lab.get_json("-n", NS, "pods", "-l", "app=agent")["items"]
            if not p["metadata"].get("deletionTimestamp")]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(WORKERS)
    row = lab.kubectl("-n", NS, "get", "ds", "agent", "--no-headers").stdout.split()
    assert row[:6] == ["agent", "2", "2", "2", "2", "2"], row

    lab.kubectl("-n", NS, "set", "env", "ds/agent", "MODE=two", minor=33)
    lab.kubectl("-n", NS, "rollout", "status", "ds/agent", "--timeout=150s", minor=27, timeout=180)
    history = lab.kubectl("-n", NS, "rollout", "history", "ds/agent", minor=33).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"], history
    lab.kubectl("-n", NS, "rollout", "undo", "ds/agent", minor=33)
    lab.kubectl("-n", NS, "rollout", "status", "ds/agent", "--timeout=150s", minor=33, timeout=180)
    env = lab.get_json("-n", NS, "ds", "agent")["spec"]["template"]["spec"]["containers"][0].get("env")
    assert not env, env  # back to revision 1's template, now revision 3
    history = lab.kubectl("-n", NS, "rollout", "history", "ds/agent", minor=27).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"], history
    lab.kubectl("delete", "namespace", NS, "--timeout=150s", timeout=180)
