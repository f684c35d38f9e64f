"""The assembled kubelet serves its API on --port over TLS: anonymous callers get the plain 401."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.component.process import RecordingRunner
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings
from tests.support import eventually, free_port
from tests.unit.kube.component.pki import client_context


async def test_the_kubelet_api_runs_with_the_kubelet(tmp_path: Path, runtime: FakeRuntime) -> None:
    port = free_port()
    settings = KubeletSettings(node_name="w1", node_ip="192.168.56.21", cni_conf_dir=str(tmp_path / "net.d"),
                               root_dir=str(tmp_path), healthz_port=0, address="127.0.0.1", port=port,
                               node_status_update_frequency=0.1, resolv_conf=str(tmp_path / "resolv.conf"))
    (tmp_path / "resolv.conf").write_text("nameserver 192.168.56.1\n")
    (tmp_path / "sys/net/bridge").mkdir(parents=True)
    runner = RecordingRunner(lambda argv: json.dumps([]) if "show" in argv else "")

    async def anonymous_status() -> tuple[int, str] | None:
        try:
            async with aiohttp.ClientSession() as http, \
                    http.get(f"https://127.0.0.1:{port}/pods", ssl=client_context()) as resp:
                return resp.status, await resp.text()
        except aiohttp.ClientError:
            return None  # not listening yet
    async with InMemoryAPI() as api:
        task = asyncio.create_task(run(settings, runtime, api.config, runner, proc_sys=tmp_path / "sys"))
        try:
            assert await eventually(anonymous_status, timeout=10, what="kubelet API") == (401, "Unauthorized")
            assert (tmp_path / "pki/kubelet.crt").exists()  # self-signed under <root-dir>/pki
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
