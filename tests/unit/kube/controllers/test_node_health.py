"""Node health monitoring: a node silent past the grace period turns Unknown, its pods unready."""

from __future__ import annotations

import asyncio
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.client.events import EventRecorder
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.node_health import NodeHealthMonitor, NodeLifecycleSettings, unknown_conditions
from lab.kube.machinery import catalog
from tests.support import eventually


def ready_node(name: str, heartbeat: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    conds = [{"type": t, "status": s, "reason": "r", "message": "m", "lastHeartbeatTime": heartbeat,
              "lastTransitionTime": heartbeat}
             for t, s in (("Ready", "True"), ("MemoryPressure", "False"), ("DiskPressure", "False"),
                          ("PIDPressure", "False"))]
    return {"metadata": {"name": name}, "status": {"conditions": conds}}


def test_conditions_turn_unknown_with_upstreams_reasons() -> None:
    out = {c["type"]: c for c in unknown_conditions(ready_node("w1"), "now") or []}
    assert out["Ready"]["status"] == "Unknown" and out["Ready"]["reason"] == "NodeStatusUnknown"
    assert out["Ready"]["message"] == "Kubelet stopped posting node status."
    assert out["Ready"]["lastHeartbeatTime"] == "2026-01-01T00:00:00Z" and out["Ready"]["lastTransitionTime"] == "now"
    assert out["PIDPressure"]["status"] == "Unknown"
    again = {"metadata": {"name": "w1"}, "status": {"conditions": list(out.values())}}
    assert unknown_conditions(again, "later") is None
    never = {c["type"]: c for c in unknown_conditions({"metadata": {"name": "w2"}}, "now") or []}
    assert never["Ready"]["reason"] == "NodeStatusNeverUpdated"


async def test_a_silent_node_goes_unknown_and_its_pods_unready_a_live_one_stays() -> None:
    now = [0.0]
    async with InMemoryAPI() as api, Client(api.config) as client:
        await api.seed(catalog.NODES, ready_node("quiet"))
        await api.seed(catalog.NODES, ready_node("alive"))
        for node in ("quiet", "alive"):
            await api.seed(catalog.PODS, {"metadata": {"name": f"p-{node}", "namespace": "default"},
                                          "spec": {"nodeName": node, "containers": [{"name": "a", "image": "x"}]},
                                          "status": {"phase": "Running", "conditions": [
                                              {"type": "Ready", "status": "True"}]}})
        informers = SharedInformers(client)
        monitor = NodeHealthMonitor(client, informers.get(catalog.NODES), informers.get(catalog.LEASES),
                                    informers.get(catalog.PODS), EventRecorder(client, "node-controller"),
                                    NodeLifecycleSettings(5, 40, 60), clock=lambda: now[0])
        tasks = [asyncio.create_task(i.run()) for _, i in informers]
        try:
            await informers.wait_synced(5)
            await monitor.monitor()  # first sight: both fresh
            now[0] = 30.0
            lease = {"holderIdentity": "alive", "renewTime": "2026-01-01T00:00:30.000000Z"}
            await api.seed(catalog.LEASES, {"metadata": {"name": "alive", "namespace": "kube-node-lease"},
                                            "spec": lease})
            await eventually(lambda: informers.get(catalog.LEASES).store.get("kube-node-lease/alive"), 5, "lease seen")
            assert monitor.probes["alive"].seen_at == 30.0  # seen as it arrived, not at the next pass
            await monitor.monitor()  # alive renewed its lease at 30 s
            now[0] = 41.0
            await monitor.monitor()
            quiet = await api.object(catalog.NODES, "quiet")
            alive = await api.object(catalog.NODES, "alive")
            assert {c["type"]: c["status"] for c in quiet["status"]["conditions"]}["Ready"] == "Unknown"
            assert {c["type"]: c["status"] for c in alive["status"]["conditions"]}["Ready"] == "True"
            pod = await api.object(catalog.PODS, "p-quiet", "default")
            assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "False"
            other = await api.object(catalog.PODS, "p-alive", "default")
            assert {c["type"]: c["status"] for c in other["status"]["conditions"]}["Ready"] == "True"

            async def event() -> bool:
                events = await api.objects(catalog.EVENTS, "default")
                return any(e["reason"] == "NodeNotReady" and e["message"] == "Node quiet status is now: NodeNotReady"
                           for e in events)
            await eventually(event, 5, "the NodeNotReady event")
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
