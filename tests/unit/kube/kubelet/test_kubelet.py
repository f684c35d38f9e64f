"""The assembled kubelet on a fake API and runtime: register, get a podCIDR, become Ready, run a pod."""

from __future__ import annotations

import asyncio
import json

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.component.process import RecordingRunner
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery import catalog
from tests.support import eventually, holds_for


def ready_is(api: InMemoryAPI, want: str):  # type: ignore[no-untyped-def]
    """A check: the node's Ready condition has status `want`."""
    async def check() -> bool:
        node = await api.object(catalog.NODES, "w1") or {}
        conditions = (node.get("status") or {}).get("conditions") or []
        return {c["type"]: c["status"] for c in conditions}.get("Ready") == want
    return check


async def test_kubelet_registers_waits_for_its_pod_cidr_then_runs_pods(tmp_path, runtime: FakeRuntime):
    settings = KubeletSettings(node_name="w1", node_ip="192.168.56.21", cni_conf_dir=str(tmp_path / "net.d"),
                               root_dir=str(tmp_path), healthz_port=0, port=0, node_status_update_frequency=0.1,
                               resolv_conf=str(tmp_path / "resolv.conf"))
    (tmp_path / "resolv.conf").write_text("nameserver 192.168.56.1\nsearch lab\n")
    (tmp_path / "sys/net/bridge").mkdir(parents=True)
    routes = [{"dst": "10.244.9.0/24", "gateway": "192.168.56.29"}]
    runner = RecordingRunner(lambda argv: json.dumps(routes) if "show" in argv else "")
    async with InMemoryAPI() as api:
        task = asyncio.create_task(run(settings, runtime, api.config, runner, proc_sys=tmp_path / "sys"))
        try:
            await eventually(ready_is(api, "False"))
            await api.seed(catalog.PODS, {"metadata": {"name": "web", "namespace": "default"},
                                    "spec": {"nodeName": "w1", "containers": [
                                        {"name": "app", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent"}]}})
            await holds_for(lambda: runtime.sandboxes == {}, 0.3, "no sandbox")  # no pod network yet: pods wait

            node = await api.object(catalog.NODES, "w1")
            node["spec"] = {"podCIDR": "10.244.1.0/24"}  # type: ignore[index]
            del node["metadata"]["resourceVersion"]  # type: ignore[index]  # unconditional: heartbeats race it
            await api.update(catalog.NODES, node)  # type: ignore[arg-type]
            await eventually(ready_is(api, "True"))
            assert (tmp_path / "net.d/10-kubelab.conflist").exists()
            assert ["ip", "route", "del", "10.244.9.0/24", "proto", "199"] in runner.commands

            async def running_pod() -> dict | None:
                p = await api.object(catalog.PODS, "web", "default")
                return p if p and p.get("status", {}).get("phase") == "Running" else None
            pod = await eventually(running_pod)
            [sandbox] = runtime.sandboxes.values()
            assert list(sandbox.config.dns_config.servers) == ["192.168.56.1"]
            assert pod["status"]["podIP"] == sandbox.ip
            lease = await api.object(catalog.LEASES, "w1", "kube-node-lease")
            assert lease is not None and lease["spec"]["holderIdentity"] == "w1"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert len(runtime.running("app")) == 1  # stopping the kubelet leaves pods running
