"""imagePullSecrets: the keyring a pod's pull Secrets make, which entries cover an image, and the
pull that tries them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lab.kube.kubelet import pull_secrets
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.podconfig import NodeFacts

from .conftest import Clock, FakeObjects, make_pod
from .test_pod_events import Recorded


def config_secret(auths: dict[str, Any], kind: str = "kubernetes.io/dockerconfigjson") -> dict[str, Any]:
    key, body = (".dockerconfigjson", {"auths": auths}) if kind.endswith("json") else (".dockercfg", auths)
    return {"type": kind, "data": {key: base64.b64encode(json.dumps(body).encode()).decode()}}


@pytest.mark.parametrize(("image", "expected"), [
    ("busybox", ("docker.io", "library/busybox")),
    ("busybox:1.36", ("docker.io", "library/busybox")),
    ("team/app:2", ("docker.io", "team/app")),
    ("reg.example:5000/team/app:2", ("reg.example:5000", "team/app")),
    ("localhost/app@sha256:abc", ("localhost", "app")),
])
def test_repository(image: str, expected: tuple[str, str]) -> None:
    assert pull_secrets.repository(image) == expected


def test_the_most_specific_entries_come_first_and_auth_is_decoded() -> None:
    auth = base64.b64encode(b"bob:pw2").decode()
    entries = pull_secrets.parse(config_secret({
        "https://reg.example:5000/v1/": {"username": "alice", "password": "pw1"},
        "reg.example:5000/team": {"auth": auth},
        "*.other.example": {"username": "carol", "password": "pw3"},
        "https://index.docker.io/v1/": {"username": "dave", "password": "pw4"}}))
    found = pull_secrets.lookup(entries, "reg.example:5000/team/app:1")
    assert [(a.username, a.password) for a in found] == [("bob", "pw2"), ("alice", "pw1")]
    assert [a.username for a in pull_secrets.lookup(entries, "reg.example:5000/else/app")] == ["alice"]
    assert [a.username for a in pull_secrets.lookup(entries, "eu.other.example/x")] == ["carol"]
    assert [a.username for a in pull_secrets.lookup(entries, "nginx")] == ["dave"]
    assert pull_secrets.lookup(entries, "quay.io/x/y") == []
    legacy = pull_secrets.parse(config_secret({"reg.example:5000": {"username": "erin", "password": "p"}},
                                              "kubernetes.io/dockercfg"))
    assert [a.username for a in pull_secrets.lookup(legacy, "reg.example:5000/app")] == ["erin"]
    assert pull_secrets.parse({"type": "Opaque", "data": {"x": "eQ=="}}) == []


async def test_a_private_image_is_pulled_with_the_pods_secret(runtime: FakeRuntime, clock: Clock) -> None:
    objects = FakeObjects()
    objects.objects[("secrets", "default", "regcred")] = config_secret(
        {"reg.example:5000": {"username": "wrong", "password": "x"}}) | {"metadata": {"name": "regcred"}}
    objects.objects[("secrets", "default", "regcred2")] = config_secret(
        {"reg.example:5000/team": {"username": "robot", "password": "s3cret"}}) | {"metadata": {"name": "regcred2"}}
    runtime.registry_user = "robot"
    recorded = Recorded()
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, objects=objects, events=PodEvents(recorded))
    pod = make_pod(image="reg.example:5000/team/app:1")
    pod["spec"]["imagePullSecrets"] = [{"name": "regcred"}, {"name": "regcred2"}, {"name": "gone"}]
    await syncer.sync(pod)
    assert runtime.running("app")
    assert [arg for method, arg in runtime.calls if method == "PullImage"] == ["reg.example:5000/team/app:1 robot"]
    assert ("Warning", "FailedToRetrieveImagePullSecret", "Unable to retrieve some image pull secrets (gone); "
            "attempting to pull the image may not succeed.") in recorded.events


async def test_without_a_matching_secret_the_private_pull_fails(runtime: FakeRuntime, clock: Clock) -> None:
    runtime.registry_user = "robot"
    syncer = PodSyncer(runtime, NodeFacts("w1"), clock=clock, objects=FakeObjects())
    result = await syncer.sync(make_pod(image="reg.example:5000/team/app:1"))
    assert result.waiting["app"].reason == "ErrImagePull"
    assert "401 Unauthorized" in result.waiting["app"].message
