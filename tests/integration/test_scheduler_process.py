"""kube-scheduler as a process with a KubeSchedulerConfiguration: an unfit pod is told why
(condition + Event, as `kubectl describe` shows), fits once its node grows, and a second
profile schedules the pods that name it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors
from tests.integration.components import WAIT, Component
from tests.integration.conftest import APIServerProcess
from tests.support import eventually

pytestmark = pytest.mark.integration
Obj = dict[str, Any]

CONFIG = """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: packing-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
"""


def _pod(name: str, zone: str, cpu: str, scheduler: str = "default-scheduler") -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"schedulerName": scheduler, "nodeSelector": {"lab.example/zone": zone},
                     "containers": [{"name": "c", "image": "registry.local/pause:1",
                                     "resources": {"requests": {"cpu": cpu}}}]}}


async def test_unfit_pod_is_explained_then_scheduled(apiserver: APIServerProcess, kubectl: Any,
                                                     tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:6]
    ns, node, zone = f"sched-{suffix}", f"n-{suffix}", f"z-{suffix}"
    config = tmp_path / "scheduler.yaml"
    config.write_text(CONFIG)
    scheduler = Component("lab.kube.scheduler.main",
                          ["--kubeconfig", str(apiserver.kubeconfig), "--config", str(config)], tmp_path)
    async with Client(load_kubeconfig(apiserver.kubeconfig)) as client:
        try:
            await client.create(catalog.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": ns}})
            await client.create(catalog.NODES, {"apiVersion": "v1", "kind": "Node",
                                                "metadata": {"name": node, "labels": {"lab.example/zone": zone}}})
            await client.patch(catalog.NODES, node, {"status": {"allocatable": {"cpu": "1", "memory": "2Gi",
                                                                                "pods": "10"}}},
                               subresource="status")
            await client.create(catalog.PODS, _pod("big", zone, "4"), ns)

            async def unschedulable() -> Obj | None:
                pod = await client.get(catalog.PODS, "big", ns)
                conds = [c for c in (pod.get("status") or {}).get("conditions") or []
                         if c["type"] == "PodScheduled"]
                return conds[0] if conds and conds[0]["status"] == "False" else None
            cond = await eventually(unschedulable, timeout=WAIT, what="PodScheduled=False")
            assert cond["reason"] == "Unschedulable"
            assert re.match(r"0/\d+ nodes are available: .*1 Insufficient cpu", cond["message"]), cond["message"]

            described = await asyncio.to_thread(kubectl, "1.33", "-n", ns, "describe", "pod", "big")
            assert "FailedScheduling" in described.stdout and "Insufficient cpu" in described.stdout

            # the node grows (a NodeUpdate event): the waiting pod is retried and bound
            await client.patch(catalog.NODES, node, {"status": {"allocatable": {"cpu": "8"}}}, subresource="status")

            async def bound(name: str) -> str:
                return str((await client.get(catalog.PODS, name, ns))["spec"].get("nodeName") or "")
            assert await eventually(lambda: bound("big"), timeout=WAIT, what="big bound") == node

            # a pod naming the second profile is scheduled by it
            await client.create(catalog.PODS, _pod("packed", zone, "100m", "packing-scheduler"), ns)
            assert await eventually(lambda: bound("packed"), timeout=WAIT, what="packed bound") == node
            async def scheduled_event() -> bool:  # recorded just after the binding, asynchronously
                events = (await client.list(catalog.EVENTS, ns))["items"]
                return any(e["reason"] == "Scheduled" and e["involvedObject"]["name"] == "packed" for e in events)
            await eventually(scheduled_event, timeout=WAIT, what="Scheduled event")
        finally:
            code = scheduler.stop()
            print(scheduler.tail())
            for name in ("big", "packed"):
                try:
                    await client.delete(catalog.PODS, name, ns, grace_period_seconds=0)
                except errors.APIError:
                    pass
            for res, name, namespace in ((catalog.NODES, node, None), (catalog.NAMESPACES, ns, None)):
                try:
                    await client.delete(res, name, namespace)
                except errors.APIError:
                    pass
        assert code == 0
