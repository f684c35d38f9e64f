"""Init containers and sidecars as upstream's kubelet runs them: in order, each regular one to
success and each sidecar until started, before the regular containers; their statuses, the pod's
phase and its Initialized condition."""

from __future__ import annotations

from typing import Any

from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.pod_status import NO_PROBES, pod_status
from lab.kube.kubelet.pod_sync import PodSyncer

from .conftest import Clock, make_pod


def init(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent", "command": ["true"], **fields}


def pod_with(*inits: dict[str, Any], restart_policy: str = "Always") -> dict[str, Any]:
    pod = make_pod(restart_policy=restart_policy)
    pod["spec"]["initContainers"] = list(inits)
    return pod


def names_started(runtime: FakeRuntime) -> list[str]:
    by_id = {c.id: c.config.metadata.name for c in runtime.containers.values()}
    return [by_id[arg] for method, arg in runtime.calls if method == "StartContainer" and arg in by_id]


def running_id(runtime: FakeRuntime, name: str) -> str:
    [c] = runtime.running(name)
    return c.id


async def status_after(syncer: PodSyncer, pod: dict[str, Any], probes: Any = None) -> dict[str, Any]:
    result = await (syncer.sync(pod, probes) if probes else syncer.sync(pod))
    status = pod_status(pod, result.runtime, result.waiting, "192.168.56.21", "containerd", probes=probes or NO_PROBES)
    pod["status"] = status
    return status


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("message", "")) for c in status["conditions"]}


async def test_regular_init_containers_run_one_after_the_other_before_the_app(
        syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = pod_with(init("migrate"), init("warm"))
    status = await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate"]
    assert status["phase"] == "Pending"
    assert conditions(status)["Initialized"] == ("False", "containers with incomplete status: [migrate warm]")
    assert [s["state"] for s in status["initContainerStatuses"]][1] == {"waiting": {"reason": "PodInitializing"}}
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate"]  # still running: nothing else starts

    runtime.exit_container(running_id(runtime, "migrate"), 0)
    status = await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate", "warm"]
    first = status["initContainerStatuses"][0]
    assert first["ready"] is True and first["state"]["terminated"]["reason"] == "Completed"
    assert conditions(status)["Initialized"] == ("False", "containers with incomplete status: [warm]")

    runtime.exit_container(running_id(runtime, "warm"), 0)
    status = await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate", "warm", "app"]
    status = await status_after(syncer, pod)
    assert status["phase"] == "Running"
    assert conditions(status)["Initialized"] == ("True", "")
    assert names_started(runtime) == ["migrate", "warm", "app"]  # completed init containers are not run again


async def test_a_failing_init_container_restarts_with_back_off_and_holds_the_app(
        syncer: PodSyncer, runtime: FakeRuntime, clock: Clock) -> None:
    pod = pod_with(init("migrate"))
    await status_after(syncer, pod)
    runtime.exit_container(running_id(runtime, "migrate"), 1)
    status = await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate", "migrate"]  # the first failure restarts at once
    runtime.exit_container(running_id(runtime, "migrate"), 1)
    status = await status_after(syncer, pod)
    [init_status] = status["initContainerStatuses"]
    assert init_status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert init_status["restartCount"] == 1 and init_status["lastState"]["terminated"]["exitCode"] == 1
    assert status["phase"] == "Pending"
    assert "app" not in names_started(runtime)


async def test_a_failed_init_container_fails_a_never_pod(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = pod_with(init("migrate"), restart_policy="Never")
    await status_after(syncer, pod)
    runtime.exit_container(running_id(runtime, "migrate"), 2)
    status = await status_after(syncer, pod)
    assert status["phase"] == "Failed"
    assert names_started(runtime) == ["migrate"]
    await status_after(syncer, pod)
    assert names_started(runtime) == ["migrate"]  # a finished pod never runs again


class Startup:
    """Probe results: a sidecar is started only once the test says so."""

    def __init__(self) -> None:
        self.started_ids: set[str] = set()

    def ready(self, uid: str, name: str, cid: str) -> bool:
        return cid in self.started_ids

    def started(self, uid: str, name: str, cid: str) -> bool:
        return cid in self.started_ids


async def test_a_sidecar_must_start_before_the_app_and_is_restarted_whenever_it_exits(
        syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = pod_with(init("proxy", restartPolicy="Always", command=["sleep", "3600"]), restart_policy="Never")
    probes = Startup()
    status = await status_after(syncer, pod, probes)
    await status_after(syncer, pod, probes)
    assert names_started(runtime) == ["proxy"]  # running but not started: the app waits
    assert status["phase"] == "Pending"
    proxy = running_id(runtime, "proxy")
    probes.started_ids.add(proxy)
    await status_after(syncer, pod, probes)
    assert names_started(runtime) == ["proxy", "app"]
    status = await status_after(syncer, pod, probes)
    assert status["phase"] == "Running"
    assert conditions(status)["Ready"] == ("False", "containers with unready status: [app]")  # Startup knows proxy only

    runtime.exit_container(proxy, 1)  # a sidecar restarts whatever the pod's restartPolicy
    status = await status_after(syncer, pod, probes)
    assert names_started(runtime) == ["proxy", "app", "proxy"]
    assert conditions(status)["Initialized"] == ("True", "")  # the app ran: initialized before


async def test_sidecars_stop_once_the_app_is_done_and_the_pod_succeeds(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = pod_with(init("log", restartPolicy="Always"), init("proxy", restartPolicy="Always"),
                   restart_policy="Never")
    for _ in range(4):
        await status_after(syncer, pod)
    assert names_started(runtime) == ["log", "proxy", "app"]
    runtime.exit_container(running_id(runtime, "app"), 0)
    await status_after(syncer, pod)
    stops = [arg.split()[0] for method, arg in runtime.calls if method == "StopContainer"]
    by_id = {c.id: c.config.metadata.name for c in runtime.containers.values()}
    assert [by_id[s] for s in stops] == ["proxy", "log"]  # last first
    status = await status_after(syncer, pod)
    assert status["phase"] == "Succeeded"
    assert conditions(status)["Initialized"] == ("True", "")
    assert conditions(status)["Ready"][0] == "False"


async def test_deletion_stops_the_app_before_its_sidecars(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = pod_with(init("log", restartPolicy="Always"), init("proxy", restartPolicy="Always"))
    for _ in range(4):
        await status_after(syncer, pod)
    by_id = {c.id: c.config.metadata.name for c in runtime.containers.values()}
    await syncer.kill("uid-web", 30, pod)
    stops = [by_id[arg.split()[0]] for method, arg in runtime.calls if method == "StopContainer"]
    assert stops == ["app", "proxy", "log"]
    assert not runtime.containers and not runtime.sandboxes


async def test_a_succeeded_on_failure_pod_is_not_run_again(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = make_pod(restart_policy="OnFailure")
    await status_after(syncer, pod)
    runtime.exit_container(running_id(runtime, "app"), 0)
    status = await status_after(syncer, pod)
    assert status["phase"] == "Succeeded"
    await syncer.stop_sandboxes((await syncer.sync(pod)).runtime)
    await status_after(syncer, pod)
    assert names_started(runtime) == ["app"] and len(runtime.sandboxes) == 1
