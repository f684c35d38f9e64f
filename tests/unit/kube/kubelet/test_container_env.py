"""A container's environment as upstream's kubelet makes it: envFrom, valueFrom sources, order and errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from lab.kube.kubelet.container_env import EnvError, environment, resource_value
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_status import pod_status
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts

from .conftest import Clock, FakeObjects, make_pod
from .test_pod_events import Recorded


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def objects() -> FakeObjects:
    found = FakeObjects()
    found.add("configmaps", "app-config", data={"LOG_LEVEL": "debug", "mode": "fast", "bad key": "x", "1st": "y"})
    found.add("secrets", "db", data={"password": b64("s3cret"), "USER": b64("admin")})
    return found


async def env_of(container: dict[str, Any], objects: FakeObjects, **kwargs: Any) -> dict[str, str]:
    pod = make_pod(**container)
    made = await environment(pod, pod["spec"]["containers"][0], pod_ip="10.244.1.7", node_name="w1",
                             objects=objects, **kwargs)
    return made.variables


async def test_env_from_takes_every_valid_key_behind_its_prefix_and_reports_the_rest(objects: FakeObjects) -> None:
    pod = make_pod(envFrom=[{"configMapRef": {"name": "app-config"}, "prefix": "CFG_"},
                            {"secretRef": {"name": "db"}}])
    made = await environment(pod, pod["spec"]["containers"][0], pod_ip="", node_name="w1", objects=objects)
    assert made.variables == {"CFG_LOG_LEVEL": "debug", "CFG_mode": "fast", "CFG_1st": "y",
                              "password": "s3cret", "USER": "admin"}
    assert made.warnings == ["Keys [CFG_bad key] from the EnvFrom configMap default/app-config were skipped "
                             "since they are considered invalid environment variable names."]
    made = await environment(make_pod(), {"name": "c", "envFrom": [{"configMapRef": {"name": "app-config"}}]},
                             pod_ip="", node_name="w1", objects=objects)
    assert made.warnings == ["Keys [1st, bad key] from the EnvFrom configMap default/app-config were skipped "
                             "since they are considered invalid environment variable names."]


async def test_env_overrides_env_from_and_expands_what_came_before(objects: FakeObjects) -> None:
    env = await env_of({"envFrom": [{"configMapRef": {"name": "app-config"}}],
                        "env": [{"name": "LOG_LEVEL", "value": "info"},
                                {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                                {"name": "URL", "value": "db://$(USER_X):$(PASS)@$(mode)/$$(x)"},
                                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "app-config",
                                                                                   "key": "mode"}}},
                                {"name": "EMPTY"}]}, objects)
    assert env["LOG_LEVEL"] == "info"
    assert env["URL"] == "db://$(USER_X):s3cret@fast/$(x)"
    assert env["MODE"] == "fast"
    assert env["EMPTY"] == ""


async def test_optional_sources_that_are_missing_set_nothing(objects: FakeObjects) -> None:
    env = await env_of({"envFrom": [{"configMapRef": {"name": "absent", "optional": True}}],
                        "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k",
                                                                                "optional": True}}},
                                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "db", "key": "nope",
                                                                             "optional": True}}}]}, objects)
    assert "A" not in env and "B" not in env


@pytest.mark.parametrize(("env", "message"), [
    ([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}], 'configmap "absent" not found'),
    ([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}], 'secret "gone" not found'),
    ([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "k"}}}],
     "couldn't find key k in ConfigMap default/app-config"),
    ([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}}],
     "couldn't find key k in Secret default/db"),
])
async def test_a_required_source_that_is_missing_is_upstreams_error(objects: FakeObjects, env: Any,
                                                                    message: str) -> None:
    with pytest.raises(EnvError) as caught:
        await env_of({"env": env}, objects)
    assert str(caught.value) == message


async def test_env_from_a_missing_required_config_map_fails(objects: FakeObjects) -> None:
    with pytest.raises(EnvError, match=r'^configmap "absent" not found$'):
        await env_of({"envFrom": [{"configMapRef": {"name": "absent"}}]}, objects)


async def test_field_refs(objects: FakeObjects) -> None:
    fields = ["metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['app']",
              "spec.nodeName", "status.podIP", "status.hostIP"]
    env = await env_of({"env": [{"name": f"F{i}", "valueFrom": {"fieldRef": {"fieldPath": f}}}
                                for i, f in enumerate(fields)]}, objects, node_ip="192.168.56.21")
    assert list(env.values()) == ["web", "default", "uid-web", "web", "w1", "10.244.1.7", "192.168.56.21"]


@pytest.mark.parametrize(("resource", "divisor", "expected"), [
    ("limits.cpu", None, "1"),          # 250m rounds up to one core
    ("limits.cpu", "1m", "250"),
    ("requests.cpu", "1m", "100"),
    ("limits.memory", None, "134217728"),
    ("limits.memory", "1Mi", "128"),
    ("requests.memory", "1Mi", "0"),    # no request: zero
    ("limits.ephemeral-storage", "1Gi", "20"),  # no limit: the node's allocatable
])
def test_resource_field_refs(resource: str, divisor: str | None, expected: str) -> None:
    container = {"name": "c", "resources": {"limits": {"cpu": "250m", "memory": "128Mi"},
                                            "requests": {"cpu": "100m"}}}
    ref = {"resource": resource, **({"divisor": divisor} if divisor else {})}
    assert resource_value(ref, container, {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "20Gi"}) == expected


async def test_a_resource_field_ref_without_a_limit_is_the_nodes_allocatable(objects: FakeObjects) -> None:
    env = await env_of({"env": [{"name": "CPUS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                                {"name": "MEM", "valueFrom": {"resourceFieldRef": {
                                    "resource": "limits.memory", "divisor": "1Mi", "containerName": "app"}}}]},
                       objects, allocatable={"cpu": "2", "memory": "4Gi"})
    assert env == {"CPUS": "2", "MEM": "4096"}


async def test_a_missing_config_map_keeps_the_container_uncreated_until_it_exists(
        runtime: FakeRuntime, clock: Clock, objects: FakeObjects) -> None:
    recorded = Recorded()
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, events=PodEvents(recorded), objects=objects)
    pod = make_pod(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "k"}}}])
    result = await syncer.sync(pod)
    status = pod_status(pod, result.runtime, result.waiting, "192.168.56.21", "containerd")
    assert status["containerStatuses"][0]["state"] == {"waiting": {
        "reason": "CreateContainerConfigError", "message": 'configmap "late" not found'}}
    assert status["phase"] == "Pending"
    assert ("Warning", "Failed", 'Error: configmap "late" not found') in recorded.events
    assert result.requeue_after == 10.0
    assert not runtime.containers
    objects.add("configmaps", "late", data={"k": "v"})
    await syncer.sync(pod)
    [started] = runtime.running("app")
    assert {e.key: e.value for e in started.config.envs}["A"] == "v"


async def test_run_as_non_root_refuses_uid_zero(runtime: FakeRuntime, clock: Clock) -> None:
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock)
    pod = make_pod(securityContext={"runAsUser": 0})
    pod["spec"]["securityContext"] = {"runAsNonRoot": True}
    result = await syncer.sync(pod)
    assert result.waiting["app"].reason == "CreateContainerConfigError"
    assert result.waiting["app"].message == ("container's runAsUser breaks non-root policy "
                                             '(pod: "web_default(uid-web)", container: app)')
