"""The walking skeleton, as the README's tour: nodes Ready, a Deployment of the lab's
`web` image behind a ClusterIP Service, answered from a node and from a pod on another
node, self-healing after a pod is deleted, an idempotent second deploy, and upstream
errors for bad input. The tests run in file order and build on each other.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.labdriver import REPO, STATE, Lab, table_column

# The first test's setup includes `lab up` (and on a fresh machine the node image build).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]

WORKERS = ("w1", "w2")
REQUESTS = 40


def web_image(lab: Lab) -> str:
    return f"{lab.hosts['cp1'].ip}:5000/kubelab/web:1"


def running_web_pods(lab: Lab) -> list[dict]:
    pods = lab.get_json("pods", "-l", "app=web")["items"]
    return [
        p for p in pods
        if p["status"].get("phase") == "Running" and p["status"].get("podIP")
        and not p["metadata"].get("deletionTimestamp")
    ]


def web_pods_when(lab: Lab, count: int) -> list[dict] | None:
    """The Running web pods once there are exactly `count` of them (one kubectl call)."""
    pods = running_web_pods(lab)
    return pods if len(pods) == count else None


def wait_for_web_pods(lab: Lab, count: int, timeout: float = 180) -> list[dict]:
    """Exactly `count` (> 0) Running web pods: a check over them can never pass on an empty set."""
    assert count > 0
    return lab.wait(f"{count} web pods Running", lambda: web_pods_when(lab, count), timeout=timeout)


def cluster_ip(lab: Lab) -> str:
    return lab.get_json("service", "web")["spec"]["clusterIP"]


def fetch_loop(ip: str, fetch: str = "curl -sf -m 2") -> str:
    """Shell that asks the Service REQUESTS times and prints one line per request: `ok <answer>`,
    or `failed` when the request got no answer (timeout, refused, HTTP error), so every request
    is counted. No single quotes: it also runs inside `sh -c '...'`.

    Machines have curl (as a user would use); the busybox pods have wget.
    """
    return (f"for i in $(seq {REQUESTS}); do if out=$({fetch} http://{ip}/ 2>/dev/null); "
            f'then echo "ok $out"; else echo failed; fi; done')


def all_answered(output: str, expected: set[str]) -> Counter[str]:
    """Every one of the REQUESTS requests answered, each by one of `expected`, and each of
    `expected` answered at least once; AssertionError (lab.wait asks again) says what was off.

    A round may fail while kube-proxy converges on a change; the round that passes tolerates no
    failed request. Missing a pod by chance is negligible: (1 - 1/4)^40 * 4 < 1e-4 for 4 pods."""
    assert expected, "no pods to expect answers from: the check would pass vacuously"
    outcomes = [line.removeprefix("ok ").strip() if line.startswith("ok ") else "<failed>"
                for line in output.splitlines()]
    seen = Counter(outcomes)
    assert len(outcomes) == REQUESTS, f"{len(outcomes)} outcomes for {REQUESTS} requests: {dict(seen)}"
    assert set(seen) == expected, f"answers {dict(seen)}, expected each of {sorted(expected)}"
    return seen


# busybox 1.35 (Debian, static) wget segfaults with -T: bound it with `timeout` instead.
IN_POD_FETCH = "timeout 3 wget -qO-"


def test_workers_register_and_become_ready(lab: Lab) -> None:
    def ready() -> bool:
        nodes = lab.get_json("nodes")["items"]
        ready = {
            n["metadata"]["name"] for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
        }
        return set(WORKERS) <= ready

    lab.wait("w1 and w2 Ready", ready, timeout=120)
    for minor in (27, 33):
        status = table_column(lab.kubectl("get", "nodes", minor=minor).stdout, "STATUS")
        assert {w: status.get(w) for w in WORKERS} == {w: "Ready" for w in WORKERS}, status


def test_deployment_runs_three_pods_across_workers(lab: Lab) -> None:
    created = time.monotonic()
    lab.kubectl("create", "deployment", "web", f"--image={web_image(lab)}", "--replicas=3")
    lab.kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080")

    pods = wait_for_web_pods(lab, 3, timeout=240)
    print(f"\npod create -> 3 Running: {time.monotonic() - created:.1f}s")
    assert {p["spec"]["nodeName"] for p in pods} == set(WORKERS), "pods should spread over both workers"
    ips = table_column(lab.kubectl("get", "pods", "-o", "wide").stdout, "IP")
    assert {n: ips.get(n) for n in (p["metadata"]["name"] for p in pods)} == {
        p["metadata"]["name"]: p["status"]["podIP"] for p in pods}, ips
    assert cluster_ip(lab).startswith("10.")


def test_cluster_ip_answers_from_a_node(lab: Lab) -> None:
    expected = {p["metadata"]["name"] for p in wait_for_web_pods(lab, 3)}
    ip = cluster_ip(lab)
    lab.wait(f"all three pods answering all {REQUESTS} requests to {ip} from w1",
             lambda: all_answered(lab.ssh("w1", fetch_loop(ip), check=False), expected), timeout=90, interval=3)


def test_cluster_ip_answers_from_a_pod_on_another_node(lab: Lab) -> None:
    pods = wait_for_web_pods(lab, 3)
    expected = {p["metadata"]["name"] for p in pods}
    on_w2 = [p for p in pods if p["spec"]["nodeName"] == "w2"]
    assert on_w2, f"no web pod on w2 to ask from: {[(p['metadata']['name'], p['spec']['nodeName']) for p in pods]}"
    client = on_w2[0]
    container_id = client["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]
    ip = cluster_ip(lab)

    def all_answer() -> Counter[str]:
        exec_id = f"e2e-{int(time.time() * 1000)}"
        cmd = (f"sudo ctr -n k8s.io tasks exec --exec-id {exec_id} {container_id} "
               f"sh -c '{fetch_loop(ip, IN_POD_FETCH)}'")
        return all_answered(lab.ssh("w2", cmd, check=False), expected)

    lab.wait(f"all three pods answering all {REQUESTS} requests to {ip} inside pod {client['metadata']['name']}",
             all_answer, timeout=90, interval=3)


def test_deleted_pod_is_replaced_and_served(lab: Lab) -> None:
    victim = wait_for_web_pods(lab, 3)[0]["metadata"]["name"]
    lab.kubectl("delete", "pod", victim, "--wait=true", timeout=120)

    def replaced() -> list[dict] | None:
        pods = running_web_pods(lab)
        names = {p["metadata"]["name"] for p in pods}
        return pods if len(pods) == 3 and victim not in names else None

    pods = lab.wait("a replacement pod Running", replaced, timeout=180)
    expected = {p["metadata"]["name"] for p in pods}
    ip = cluster_ip(lab)
    lab.wait("the Service answering from the new pod, and only from live pods",
             lambda: all_answered(lab.ssh("w1", fetch_loop(ip), check=False), expected),
             timeout=90, interval=3)


def test_components_recover_from_restarts_by_reconciling(lab: Lab) -> None:
    """etcd and the whole control plane restart, a kubelet and a kube-proxy restart: the
    running pods are kept (same containers), and the cluster goes on converging."""
    before = {p["metadata"]["name"]: p["status"]["containerStatuses"][0]["containerID"]
              for p in wait_for_web_pods(lab, 3)}
    lab.ssh("cp1", "sudo systemctl restart etcd kube-apiserver kube-scheduler kube-controller-manager")
    lab.ssh("w1", "sudo systemctl restart kubelet kube-proxy")
    lab.wait("the API server ready again",
             lambda: lab.kubectl("get", "--raw", "/readyz", check=False).stdout.strip() == "ok", timeout=90)

    lab.kubectl("scale", "deployment", "web", "--replicas=4")
    pods = wait_for_web_pods(lab, 4)
    after = {p["metadata"]["name"]: p["status"]["containerStatuses"][0]["containerID"] for p in pods}
    assert {n: after.get(n) for n in before} == before, "restarted components must adopt, not recreate, pods"

    expected = set(after)
    ip = cluster_ip(lab)
    lab.wait(f"the Service answering all {REQUESTS} requests from all 4 pods",
             lambda: all_answered(lab.ssh("w1", fetch_loop(ip), check=False), expected),
             timeout=90, interval=3)
    lab.kubectl("scale", "deployment", "web", "--replicas=3")
    wait_for_web_pods(lab, 3, timeout=120)


def test_second_site_run_reports_no_changes(lab: Lab) -> None:
    from lab.deploy.ansible import run_playbook

    result = run_playbook(REPO / "playbooks" / "site.yml", STATE / "inventory" / "hosts.ini")
    assert result.rc == 0
    missing = set(lab.hosts) - set(result.recap)
    assert lab.hosts and not missing, f"every machine plays in site.yml; not in the recap: {missing}"
    changed = {host: counts.get("changed", 0) for host, counts in result.recap.items()}
    assert changed and all(v == 0 for v in changed.values()), changed


def test_bad_input_gets_upstream_errors_and_the_server_keeps_serving(lab: Lab, tmp_path: Path) -> None:
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers: []\n")
    out = lab.kubectl("apply", "-f", str(malformed), check=False)
    assert out.returncode != 0
    assert 'The Pod "broken" is invalid' in out.stderr and "spec.containers" in out.stderr

    wrong_type = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wrong-type"},
        "spec": {"containers": [{"name": "c", "image": web_image(lab), "ports": "8080"}]},
    }
    out = lab.kubectl("create", "-f", "-", stdin=json.dumps(wrong_type), check=False)
    assert out.returncode != 0 and "Error from server (BadRequest)" in out.stderr, out.stderr

    existing = json.dumps(lab.get_json("deployment", "web"))
    out = lab.kubectl("create", "-f", "-", stdin=existing, check=False)
    assert out.returncode != 0
    assert 'Error from server (AlreadyExists): error when creating "STDIN": deployments.apps "web" already exists' \
        in out.stderr
    out = lab.kubectl("create", "deployment", "web", f"--image={web_image(lab)}", check=False)
    # kubectl's generator wraps the server's AlreadyExists in its own prefix.
    assert out.returncode != 0 and 'deployments.apps "web" already exists' in out.stderr

    assert lab.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
