"""DefaultTolerationSeconds admission, on by default as upstream's: a pod that does not tolerate
the not-ready/unreachable NoExecute taints tolerates each for 300 s; and how admission plugins
are switched on and off."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.apiserver.admission.setup import UnknownPluginError, build_plugins
from lab.kube.apiserver.settings import Settings, from_args
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.machinery import catalog

NOT_READY, UNREACHABLE = "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"


def pod(name: str, tolerations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx:1.25"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {"metadata": {"name": name}, "spec": spec}


def default(key: str, seconds: int = 300) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}


async def created(settings: Settings, *pods: dict[str, Any]) -> list[list[dict[str, Any]]]:
    async with InMemoryAPI(settings) as api, Client(api.config) as client:
        return [(await client.create(catalog.PODS, p, "default"))["spec"].get("tolerations") or [] for p in pods]


async def test_a_pod_gets_upstreams_two_default_tolerations_unless_it_has_its_own() -> None:
    own = {"key": NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    everything = {"operator": "Exists"}
    any_effect = {"key": UNREACHABLE, "operator": "Exists"}
    no_schedule = {"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}
    got = await created(Settings(insecure_anonymous_admin=True), pod("bare"), pod("own", [own]),
                        pod("everything", [everything]), pod("any-effect", [any_effect]),
                        pod("no-schedule", [no_schedule]))
    assert got == [[default(NOT_READY), default(UNREACHABLE)],
                   [own, default(UNREACHABLE)],
                   [everything],
                   [any_effect, default(NOT_READY)],
                   [no_schedule, default(NOT_READY), default(UNREACHABLE)]]


async def test_the_seconds_follow_the_flags_and_the_plugin_can_be_disabled() -> None:
    settings = from_args(["--default-not-ready-toleration-seconds=60",
                           "--default-unreachable-toleration-seconds=30"])
    assert (settings.default_not_ready_toleration_seconds, settings.default_unreachable_toleration_seconds) == (60, 30)
    assert await created(Settings(insecure_anonymous_admin=True, default_not_ready_toleration_seconds=60,
                                  default_unreachable_toleration_seconds=30), pod("p")) == [
        [default(NOT_READY, 60), default(UNREACHABLE, 30)]]
    off = Settings(insecure_anonymous_admin=True, disable_admission_plugins=("DefaultTolerationSeconds",))
    assert await created(off, pod("p")) == [[]]


def test_plugins_are_the_default_on_plus_the_enabled_minus_the_disabled() -> None:
    names = [p.name for p in build_plugins(Settings(), {})]
    assert names == ["DefaultTolerationSeconds", "Priority"]
    names = [p.name for p in build_plugins(Settings(enable_admission_plugins=("NodeRestriction",),
                                                    disable_admission_plugins=("Priority",)), {})]
    assert names == ["NodeRestriction", "DefaultTolerationSeconds"]
    with pytest.raises(UnknownPluginError, match="unknown admission plugins: Bogus"):
        build_plugins(Settings(disable_admission_plugins=("Bogus",)), {})
    with pytest.raises(UnknownPluginError, match="overlapped"):
        build_plugins(Settings(enable_admission_plugins=("DefaultTolerationSeconds",),
                               disable_admission_plugins=("DefaultTolerationSeconds",)), {})
