"""`kubectl exec`, `attach` and `port-forward` end to end on one node: real kubectl 1.27 (SPDY)
and 1.33 (WebSocket first, SPDY when refused) and the official Python client (WebSocket
v4.channel.k8s.io) → the real API server's connect subresources → TLS to the real kubelet →
containerd's streaming server. Exit codes, piped stdin to EOF, a TTY through a pty, forwarded
HTTP, and upstream's refusals."""

from __future__ import annotations

import asyncio
import re
import select
import subprocess
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.conftest import APIServerProcess, Kubectl, kubectl_path
from tests.integration.kubelet_node import kubelet_node, pod
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import run_in_pty

pytestmark = pytest.mark.integration
MINORS = (27, 33)
HTTPD = ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]


@pytest.fixture
async def node(containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path) -> AsyncIterator[str]:  # noqa: F811
    """`web` serves HTTP on 8080; `reader-N` waits for one line on its stdin (for attach)."""
    image = f"{containerd.registry}/busybox:test"
    readers = [pod(f"reader-{m}", "", image, ["/bin/sh", "-c", "read l; echo got $l; sleep 30"], stdin=True,
                   stdinOnce=True) for m in MINORS]
    async with kubelet_node(containerd, apiserver, tmp_path, "kt-stream", [pod("web", "", image, HTTPD), *readers],
                            running=("web", *(f"reader-{m}" for m in MINORS))) as name:
        yield name


async def kubectl_run(kubectl: Kubectl, minor: int, *args: str, stdin: str | None = None,
                      ) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(kubectl, minor, *args, input=stdin, timeout=60)


@pytest.mark.parametrize("minor", MINORS)
async def test_exec_output_exit_codes_and_stdin(node: str, kubectl: Kubectl, minor: int) -> None:
    ok = await kubectl_run(kubectl, minor, "exec", "web", "--", "sh", "-c", "echo out; echo err >&2")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "out\n", "err\n")
    failed = await kubectl_run(kubectl, minor, "exec", "web", "--", "sh", "-c", "exit 3")
    assert failed.returncode == 3, failed.stderr
    piped = await kubectl_run(kubectl, minor, "exec", "-i", "web", "--", "sh", "-c",
                              "while read l; do echo got-$l; done; echo eof", stdin="a\nb\n")
    assert piped.stdout == "got-a\ngot-b\neof\n", piped.stderr  # stdin reached EOF, so the loop ended
    big = await kubectl_run(kubectl, minor, "exec", "web", "--", "sh", "-c",
                            "i=0; while [ $i -lt 2000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
    assert big.returncode == 0 and len(big.stdout.splitlines()) == 2000 and big.stdout.endswith("line-1999-"
                                                                                               + "x" * 24 + "\n")


@pytest.mark.parametrize("minor", MINORS)
async def test_exec_refusals(node: str, kubectl: Kubectl, minor: int) -> None:
    missing = await kubectl_run(kubectl, minor, "exec", "web", "--", "no-such-command")
    assert missing.returncode != 0 and "no-such-command" in missing.stderr, missing.stderr
    wrong = await kubectl_run(kubectl, minor, "exec", "web", "-c", "nope", "--", "sh")
    assert wrong.returncode == 1 and "container nope is not valid for pod web" in wrong.stderr, wrong.stderr
    gone = await kubectl_run(kubectl, minor, "exec", "no-such-pod", "--", "sh")
    assert gone.returncode == 1 and 'pods "no-such-pod" not found' in gone.stderr, gone.stderr


@pytest.mark.parametrize("minor", MINORS)
async def test_exec_it_runs_a_shell_on_a_terminal(node: str, apiserver: APIServerProcess, minor: int) -> None:
    argv = [str(kubectl_path(minor)), "--kubeconfig", str(apiserver.kubeconfig), "exec", "-it", "web", "--", "sh"]
    # busybox's `stty size` (the image has only sh): the terminal's size must reach the container
    script = b"echo $((6*7)); [ -t 0 ] && echo tty-yes; busybox stty size; exit 5\n"
    code, out = await asyncio.to_thread(run_in_pty, argv, script, b"42")
    assert code == 5, out
    assert b"tty-yes" in out and b"40 100" in out, out


@pytest.mark.parametrize("minor", MINORS)
async def test_port_forward_answers_on_localhost(node: str, kubectl: Kubectl, minor: int) -> None:
    proc = kubectl.popen(minor, "port-forward", "pod/web", ":8080")
    try:
        assert proc.stdout is not None
        ready, _, _ = await asyncio.to_thread(select.select, [proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert m, line
        for _ in range(3):  # each connection is a new stream pair over the same upgraded connection
            page = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/",
                                                                          timeout=15).read())
            assert page == b"hello from a kubelab pod\n"
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("minor", MINORS)
async def test_attach_sends_stdin_and_reads_output(node: str, kubectl: Kubectl, minor: int) -> None:
    out = await kubectl_run(kubectl, minor, "attach", "-i", f"reader-{minor}", stdin="hello\n")
    assert "got hello" in out.stdout, (out.stdout, out.stderr)


async def test_official_python_client_stream_exec(node: str, apiserver: APIServerProcess) -> None:
    from kubernetes import client, config
    from kubernetes.stream import stream

    def drive() -> tuple[str, str, int | None]:
        api = client.CoreV1Api(config.new_client_from_config(str(apiserver.kubeconfig)))
        simple = stream(api.connect_get_namespaced_pod_exec, "web", "default", command=["sh", "-c", "echo py"],
                        stderr=True, stdin=False, stdout=True, tty=False)
        resp = stream(api.connect_get_namespaced_pod_exec, "web", "default",
                      command=["sh", "-c", "read x; echo got-$x; exit 4"], stderr=True, stdin=True, stdout=True,
                      tty=False, _preload_content=False)
        resp.write_stdin("in\n")
        resp.run_forever(timeout=20)
        out = resp.read_stdout()
        resp.close()
        return simple, out, resp.returncode

    simple, out, code = await asyncio.to_thread(drive)
    assert (simple, out, code) == ("py\n", "got-in\n", 4)
