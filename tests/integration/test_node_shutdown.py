"""Graceful node shutdown over a real D-Bus: the logind client against a private dbus-daemon,
then a kubelet on real containerd that holds the inhibitor lock, and on PrepareForShutdown
stops its pods (lowest priority first), turns its Node NotReady, refuses new pods and lets
the lock go."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet.logind import DBusLogind, LogindError
from lab.kube.machinery import catalog
from tests.integration.conftest import APIServerProcess
from tests.integration.fake_logind import fake_logind
from tests.integration.kubelet_node import kubelet_node, pod, status_when
from tests.integration.test_kubelet_containerd import Containerd, containerd  # noqa: F401  (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.integration
INHIBIT = ("shutdown", "kubelet", "Kubelet needs time to handle node shutdown", "delay")


async def test_the_logind_client_over_a_real_bus(tmp_path: Path) -> None:
    with fake_logind(tmp_path, delay_seconds=5) as logind:
        bus = DBusLogind(logind.address, conf_dir=logind.conf_dir)
        await bus.connect()
        try:
            assert await bus.inhibit_delay() == 5.0
            await bus.override_inhibit_delay(45)
            assert (logind.conf_dir / "99-kubelet.conf").read_text() == (
                "# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=45\n")
            assert logind.reloads == 1 and await bus.inhibit_delay() == 45.0

            lock = await bus.inhibit_shutdown()
            assert logind.held() == [INHIBIT]
            events = bus.shutdown_events()
            logind.prepare_for_shutdown(True)
            assert await asyncio.wait_for(anext(events), 5) is True
            bus.release(lock)
            assert logind.held() == []
        finally:
            await bus.close()

        bus = DBusLogind(logind.address, conf_dir=logind.conf_dir)
        await bus.connect()
        events = bus.shutdown_events()
        next_event = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.2)
    with pytest.raises(LogindError, match="connection ended"):  # the daemon went away with the block
        await asyncio.wait_for(next_event, 10)
    await bus.close()
    with pytest.raises(LogindError, match="connecting to the system bus"):
        await DBusLogind(f"unix:path={tmp_path}/nothing-here").connect()


def shutdown_pod(name: str, image: str, priority_class: str = "") -> dict[str, Any]:
    # exits 0 on SIGTERM, so a clean stop is told apart from a SIGKILL
    p = pod(name, "", image, ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"])
    p["spec"]["terminationGracePeriodSeconds"] = 30
    if priority_class:  # the Priority admission turns it into spec.priority
        p["spec"]["priorityClassName"] = priority_class
    return p


async def test_a_kubelet_stops_its_pods_before_the_node_shuts_down(
        containerd: Containerd, apiserver: APIServerProcess, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    image = f"{containerd.registry}/busybox:test"
    with fake_logind(tmp_path / "bus") as logind:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", logind.address)
        # logind's 60 s already cover the 20 s asked for: the host's logind.conf.d is left alone
        logind.delay_usec = 60_000_000
        pods = [shutdown_pod("app", image), shutdown_pod("critical", image, "system-cluster-critical")]
        async with Client(load_kubeconfig(str(apiserver.kubeconfig))) as client:
            async with kubelet_node(containerd, apiserver, tmp_path, "kt-shut", pods, running=("app", "critical"),
                                    shutdown_grace_period=20.0, shutdown_grace_period_critical_pods=5.0) as node:
                await eventually(lambda: logind.held() == [INHIBIT], timeout=10, what="the kubelet's inhibitor lock")

                async def ready_is(status: str) -> dict[str, Any] | None:
                    got = await client.get(catalog.NODES, node)
                    ready: dict[str, Any] = {c["type"]: c for c in got["status"]["conditions"]}["Ready"]
                    return ready if ready["status"] == status else None
                await eventually(lambda: ready_is("True"), timeout=15, what="the node Ready")
                logind.prepare_for_shutdown(True)
                ready = await eventually(lambda: ready_is("False"), timeout=10, what="the node NotReady")
                assert (ready["reason"], ready["message"]) == ("KubeletNotReady", "node is shutting down")

                finished = {}
                for name in ("app", "critical"):
                    status = await status_when(client, name, lambda s: s.get("phase") == "Failed", 30,
                                               f"{name} stopped for the shutdown")
                    assert status["reason"] == "Terminated"
                    assert status["message"] == "Pod was terminated in response to imminent node shutdown."
                    target = {c["type"]: c for c in status["conditions"]}["DisruptionTarget"]
                    assert (target["status"], target["reason"]) == ("True", "TerminationByKubelet")
                    term = status["containerStatuses"][0]["state"]["terminated"]
                    assert term["exitCode"] == 0  # SIGTERM, handled: not killed
                    finished[name] = term["finishedAt"]
                assert finished["app"] <= finished["critical"]  # the critical group goes last
                await eventually(lambda: logind.held() == [], timeout=10, what="the lock released")

                events = (await client.list(catalog.EVENTS, "default"))["items"]
                assert any(e["reason"] == "NodeShutdown" and e["involvedObject"]["kind"] == "Node"
                           and e["message"] == "Shutdown manager detected shutdown event" for e in events)

                late = pod("late-for-shutdown", node, image, ["/bin/sleep", "60"])
                await client.create(catalog.PODS, late)
                status = await status_when(client, "late-for-shutdown", lambda s: s.get("phase") == "Failed", 15,
                                           "the late pod rejected")
                assert (status["reason"], status["message"]) == (
                    "NodeShutdown", "Pod was rejected as the node is shutting down.")
