"""The kubelet's sync decisions for one pod, against a fake runtime: create, restart, back off, adopt."""

from __future__ import annotations

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.image_puller import pull_policy
from lab.kube.kubelet.pod_status import pod_status
from lab.kube.kubelet.pod_sync import PodSyncer

from .conftest import make_pod


async def test_a_new_pod_gets_a_labelled_sandbox_and_a_running_container(syncer, runtime):
    pod = make_pod(env=[{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])
    result = await syncer.sync(pod)

    [sandbox] = runtime.sandboxes.values()
    assert sandbox.config.hostname == "web"
    assert sandbox.config.log_directory == "/var/log/pods/default_web_uid-web"
    assert dict(sandbox.config.labels)[lbl.POD_UID] == "uid-web"
    [container] = runtime.running("app")
    assert dict(container.config.labels)[lbl.CONTAINER_NAME] == "app"
    assert list(container.config.command) == ["httpd", "-f", "-p", "8080"]
    assert {e.key: e.value for e in container.config.envs} == {"POD_NAME": "web"}
    assert result.runtime.sandbox is not None and result.runtime.sandbox.ip == sandbox.ip


async def test_syncing_twice_starts_nothing_new(syncer, runtime):
    pod = make_pod()
    await syncer.sync(pod)
    calls = len([c for c in runtime.calls if c[0] in ("RunPodSandbox", "CreateContainer")])
    await syncer.sync(pod)
    assert len([c for c in runtime.calls if c[0] in ("RunPodSandbox", "CreateContainer")]) == calls


async def test_a_restarted_kubelet_adopts_what_runs_instead_of_duplicating(runtime, node, clock):
    pod = make_pod()
    await PodSyncer(runtime, node, clock=clock).sync(pod)
    fresh = PodSyncer(runtime, node, clock=clock)  # the kubelet restarted: no memory at all
    await fresh.sync(pod)
    assert len(runtime.sandboxes) == 1 and len(runtime.containers) == 1


async def test_crashing_container_restarts_at_once_then_backs_off_doubling(syncer, runtime, clock):
    pod = make_pod()
    await syncer.sync(pod)
    [first] = runtime.running("app")
    runtime.exit_container(first.id, 1)
    await syncer.sync(pod)  # first crash: restart immediately
    [second] = runtime.running("app")
    assert dict(second.config.annotations)[lbl.RESTART_COUNT] == "1"

    runtime.exit_container(second.id, 1)
    result = await syncer.sync(pod)
    assert runtime.running("app") == []
    assert result.waiting["app"].reason == "CrashLoopBackOff"
    assert result.waiting["app"].message.startswith("back-off 10s restarting failed container=app pod=web_default")
    assert result.requeue_after == 10
    status = pod_status(pod, result.runtime, result.waiting, "192.168.56.21", "containerd")
    [cs] = status["containerStatuses"]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 1 and cs["restartCount"] == 1
    assert status["phase"] == "Running"

    clock.advance(10)
    await syncer.sync(pod)
    [third] = runtime.running("app")
    runtime.exit_container(third.id, 1)
    clock.advance(10)
    result = await syncer.sync(pod)  # the back-off doubled to 20 s
    assert runtime.running("app") == [] and result.waiting["app"].message.startswith("back-off 20s")
    assert len([c for c in runtime.containers.values() if c.config.metadata.name == "app"]) == 2  # older pruned


async def test_restart_policy_decides_who_restarts(syncer, runtime):
    never, onfailure = make_pod("never", "u1", "Never"), make_pod("onfail", "u2", "OnFailure")
    for pod in (never, onfailure):
        await syncer.sync(pod)
    for c in list(runtime.containers.values()):
        runtime.exit_container(c.id, 0)
    r_never, r_onfailure = await syncer.sync(never), await syncer.sync(onfailure)
    assert runtime.running("app") == []
    assert pod_status(never, r_never.runtime, {}, "", "containerd")["phase"] == "Succeeded"
    assert pod_status(onfailure, r_onfailure.runtime, {}, "", "containerd")["phase"] == "Succeeded"


async def test_a_failed_never_pod_is_failed(syncer, runtime):
    pod = make_pod(restart_policy="Never")
    await syncer.sync(pod)
    [c] = runtime.running("app")
    runtime.exit_container(c.id, 2)
    result = await syncer.sync(pod)
    status = pod_status(pod, result.runtime, result.waiting, "", "containerd")
    assert status["phase"] == "Failed"
    assert status["containerStatuses"][0]["state"]["terminated"]["reason"] == "Error"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "False"


async def test_missing_image_is_pulled_and_pull_failures_back_off(syncer, runtime, clock):
    pod = make_pod(image="registry.lab:5000/web:2", imagePullPolicy="IfNotPresent")
    runtime.pullable = False
    result = await syncer.sync(pod)
    assert result.waiting["app"].reason == "ErrImagePull"
    result = await syncer.sync(pod)
    assert result.waiting["app"].reason == "ImagePullBackOff"
    assert [c for c in runtime.calls if c[0] == "PullImage"] == [("PullImage", "registry.lab:5000/web:2")]
    runtime.pullable = True
    clock.advance(11)
    await syncer.sync(pod)
    assert len(runtime.running("app")) == 1


def test_pull_policy_defaults_like_the_api_server():
    assert pull_policy({"image": "busybox"}) == "Always"
    assert pull_policy({"image": "busybox:latest"}) == "Always"
    assert pull_policy({"image": "registry:5000/busybox:1.36"}) == "IfNotPresent"
    assert pull_policy({"image": "busybox", "imagePullPolicy": "Never"}) == "Never"


async def test_a_dead_sandbox_is_replaced_with_the_next_attempt(syncer, runtime):
    pod = make_pod()
    await syncer.sync(pod)
    [old] = runtime.sandboxes.values()
    await runtime.stop_pod_sandbox(old.id)
    await syncer.sync(pod)
    ready = [s for s in runtime.sandboxes.values() if s.state == pb.SANDBOX_READY]
    assert [s.config.metadata.attempt for s in ready] == [1]
    [c] = runtime.running("app")
    assert c.sandbox_id == ready[0].id


async def test_kill_stops_with_the_grace_period_and_removes_everything(syncer, runtime):
    pod = make_pod()
    await syncer.sync(pod)
    await syncer.kill("uid-web", grace=7)
    assert any(m == "StopContainer" and a.endswith(" 7") for m, a in runtime.calls)
    assert runtime.sandboxes == {} and runtime.containers == {}


async def test_an_ephemeral_container_joins_its_target_and_runs_once(syncer, runtime):
    pod = make_pod()
    await syncer.sync(pod)
    [app] = runtime.running("app")
    pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
                                           "command": ["sh"], "targetContainerName": "app"}]
    result = await syncer.sync(pod)
    [dbg] = runtime.running("dbg")
    ns = dbg.config.linux.security_context.namespace_options
    assert (ns.pid, ns.target_id) == (pb.TARGET, app.id)
    runtime.exit_container(dbg.id, 0)
    result = await syncer.sync(pod)
    assert not runtime.running("dbg") and len([c for c in runtime.containers.values()
                                                if c.config.metadata.name == "dbg"]) == 1  # never restarted
    status = pod_status(pod, result.runtime, result.waiting, "192.168.56.21", "containerd")
    [eph] = status["ephemeralContainerStatuses"]
    assert eph["state"]["terminated"]["reason"] == "Completed" and eph["ready"] is False
    assert status["phase"] == "Running"
