"""The first commands a learner types after `get pods`, on the lab, with kubectl 1.27 (SPDY) and
1.33 (WebSocket): `logs` (-f, --previous), `exec` (exit codes, piped stdin, `-it` through a real
pty), `port-forward`, `cp` both ways, `attach`, `debug -it` with an ephemeral container; and the official
Python client's `stream` exec.
Everything goes through the API server to the kubelets, as a user's kubectl does."""

from __future__ import annotations

import json
import re
import select
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.labdriver import Lab, kubectl_binary
from tests.support import run_in_pty

NS = "streaming"
MINORS = (27, 33)


def web_image(lab: Lab) -> str:
    return f"{lab.hosts['cp1'].ip}:5000/kubelab/web:1"


def pod(name: str, image: str, command: list[str] | None = None, **extra: object) -> dict[str, object]:
    container: dict[str, object] = {"name": name, "image": image}
    if command:
        container["command"] = command
    container.update({k: v for k, v in extra.items() if k in ("stdin", "stdinOnce", "tty")})
    spec: dict[str, object] = {"containers": [container], "terminationGracePeriodSeconds": 1}
    if "restartPolicy" in extra:
        spec["restartPolicy"] = extra["restartPolicy"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def apply(lab: Lab, *objects: dict[str, object]) -> None:
    lab.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def wait_running(lab: Lab, *names: str) -> None:
    for name in names:
        lab.wait(f"pod {name} Running", lambda n=name: lab.get_json("pod", n, "-n", NS)["status"].get("phase")
                 == "Running", timeout=180)


@pytest.fixture(scope="module")
def pods(lab: Lab) -> Iterator[None]:
    image = web_image(lab)
    lab.kubectl("create", "namespace", NS)
    counter = ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.5; done"]
    crasher = ["sh", "-c", "echo run-at-$(date +%s); sleep 1; exit 1"]
    readers = [pod(f"reader-{m}", image, ["sh", "-c", "read l; echo got $l"], stdin=True, stdinOnce=True,
                   restartPolicy="Never") for m in MINORS]
    apply(lab, pod("talk", image), pod("counter", image, counter), pod("crasher", image, crasher), *readers)
    wait_running(lab, "talk", "counter", *(f"reader-{m}" for m in MINORS))
    yield
    lab.kubectl("delete", "namespace", NS, "--wait=false", check=False)


@pytest.mark.parametrize("minor", MINORS)
def test_logs_follow_streams_lines_as_they_are_written(lab: Lab, pods: None, minor: int) -> None:
    cmd = [kubectl_binary(minor), "--kubeconfig", str(lab.kubeconfig), "-n", NS, "logs", "-f", "--tail=1", "counter"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        seen: list[int] = []
        deadline = time.monotonic() + 30
        while len(seen) < 4 and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
                assert line, f"logs -f ended early: {proc.stderr.read() if proc.stderr else ''}"
                m = re.fullmatch(r"line (\d+)\n", line)
                assert m, line
                seen.append(int(m.group(1)))
        assert len(seen) == 4, seen
        assert seen == sorted(seen) and len(set(seen)) == 4  # new lines, in order, while following
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("minor", MINORS)
def test_logs_previous_shows_the_crashed_instance(lab: Lab, pods: None, minor: int) -> None:
    lab.wait("crasher restarted", lambda: (lab.get_json("pod", "crasher", "-n", NS)["status"]
                                           .get("containerStatuses") or [{}])[0].get("restartCount", 0) >= 1)
    out = lab.kubectl("-n", NS, "logs", "crasher", "--previous", minor=minor).stdout
    assert re.fullmatch(r"run-at-\d+\n", out), out
    tail = lab.kubectl("-n", NS, "logs", "counter", "--tail=2", minor=minor).stdout.splitlines()
    assert len(tail) == 2 and all(line.startswith("line ") for line in tail), tail


@pytest.mark.parametrize("minor", MINORS)
def test_exec_returns_output_and_exit_code(lab: Lab, pods: None, minor: int) -> None:
    ok = lab.kubectl("-n", NS, "exec", "talk", "--", "sh", "-c", "echo out; echo err >&2", minor=minor)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "out\n", "err\n")
    failed = lab.kubectl("-n", NS, "exec", "talk", "--", "sh", "-c", "exit 3", minor=minor, check=False)
    assert failed.returncode == 3, failed.stderr
    piped = lab.kubectl("-n", NS, "exec", "-i", "talk", "--", "sh", "-c", "cat; echo done", minor=minor,
                        stdin="hello\nworld\n")
    assert piped.stdout == "hello\nworld\ndone\n"  # stdin reached EOF, so cat ended
    missing = lab.kubectl("-n", NS, "exec", "talk", "--", "no-such-command", minor=minor, check=False)
    assert missing.returncode != 0 and "no-such-command" in missing.stderr, missing.stderr


@pytest.mark.parametrize("minor", MINORS)
def test_exec_it_runs_an_interactive_shell_on_a_terminal(lab: Lab, pods: None, minor: int) -> None:
    argv = [kubectl_binary(minor), "--kubeconfig", str(lab.kubeconfig), "-n", NS, "exec", "-it", "talk", "--", "sh"]
    # `stty size` proves the terminal size reached the container (the resize stream)
    code, out = run_in_pty(argv, b"echo $((6*7)); [ -t 0 ] && echo tty-yes; stty size; exit 5\n", b"42")
    assert code == 5, out
    assert b"tty-yes" in out and b"40 100" in out, out  # the terminal's size reached the container


@pytest.mark.parametrize("minor", MINORS)
def test_port_forward_answers_on_localhost(lab: Lab, pods: None, minor: int) -> None:
    cmd = [kubectl_binary(minor), "--kubeconfig", str(lab.kubeconfig), "-n", NS, "port-forward", "pod/talk", ":8080"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert m, f"{line!r} {proc.stderr.read() if proc.poll() is not None and proc.stderr else ''}"
        for _ in range(3):  # each request is a new stream over the same connection
            with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=10) as answer:
                assert answer.read().decode() == "talk\n"
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("minor", MINORS)
def test_cp_copies_both_ways(lab: Lab, pods: None, minor: int, tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("kubelab cp\n" * 1000)
    lab.kubectl("cp", str(src), f"{NS}/talk:/tmp/notes-{minor}.txt", minor=minor)
    assert lab.kubectl("-n", NS, "exec", "talk", "--", "wc", "-c", f"/tmp/notes-{minor}.txt",
                       minor=minor).stdout.split()[0] == "11000"
    back = tmp_path / "back.txt"
    lab.kubectl("cp", f"{NS}/talk:/tmp/notes-{minor}.txt", str(back), minor=minor)
    assert back.read_text() == src.read_text()


@pytest.mark.parametrize("minor", MINORS)
def test_attach_sends_stdin_and_reads_output(lab: Lab, pods: None, minor: int) -> None:
    out = lab.kubectl("-n", NS, "attach", "-i", f"reader-{minor}", minor=minor, stdin="hello\n", check=False)
    assert "got hello" in out.stdout, (out.stdout, out.stderr)
    lab.wait("reader finished", lambda: lab.get_json("pod", f"reader-{minor}", "-n", NS)["status"]
             .get("phase") == "Succeeded")


def test_official_python_client_stream_exec(lab: Lab, pods: None) -> None:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = client.CoreV1Api(config.new_client_from_config(str(lab.kubeconfig)))
    out = stream(api.connect_get_namespaced_pod_exec, "talk", NS, command=["sh", "-c", "echo from-python"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "from-python\n"
    resp = stream(api.connect_get_namespaced_pod_exec, "talk", NS, command=["sh", "-c", "read x; echo got-$x; exit 4"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("py\n")
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "got-py\n"
    assert resp.returncode == 4
    resp.close()



@pytest.mark.parametrize("minor", MINORS)
def test_debug_runs_an_ephemeral_container_beside_the_target(lab: Lab, pods: None, minor: int) -> None:
    name = f"debugger-{minor}"
    argv = [kubectl_binary(minor), "--kubeconfig", str(lab.kubeconfig), "-n", NS, "debug", "-it", "talk",
            f"--image={web_image(lab)}", "--target=talk", "-c", name, "--", "sh"]
    # a terminal keeps stdin open: containerd ends a non-stdinOnce attach once stdin closes
    code, out = run_in_pty(argv, b"echo got-$((6*7)); cat /proc/1/cmdline; echo; exit\n", b"got-42", timeout=90)
    assert code == 0, out
    assert b"httpd" in out, out  # PID 1 is the target's httpd: the debugger shares its processes
    lab.wait(f"{name} finished", lambda: any(
        s["name"] == name and "terminated" in s["state"]
        for s in lab.get_json("pod", "talk", "-n", NS)["status"].get("ephemeralContainerStatuses") or []))
