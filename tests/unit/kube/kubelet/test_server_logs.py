"""Which container instance `/containerLogs` reads, and upstream's refusals when there is none."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.kubelet.server.logs import LogRequestError, container_id, options_from_query


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"containerStatuses": [{"name": "c", **status}]}}


def refusal(p: dict[str, Any], previous: bool = False, container: str = "c") -> str:
    with pytest.raises(LogRequestError) as caught:
        container_id(p, container, previous)
    assert caught.value.status == 400
    return str(caught.value)


def test_the_running_instance_or_the_previous_one() -> None:
    running = pod(containerID="containerd://new", state={"running": {}},
                  lastState={"terminated": {"containerID": "containerd://old", "exitCode": 1}})
    assert container_id(running, "c", False) == "containerd://new"
    assert container_id(running, "c", True) == "containerd://old"


def test_a_crash_looping_container_shows_its_last_run() -> None:
    waiting = pod(state={"waiting": {"reason": "CrashLoopBackOff"}},
                  lastState={"terminated": {"containerID": "containerd://old"}})
    assert container_id(waiting, "c", False) == "containerd://old"


def test_upstream_refusals() -> None:
    assert refusal(pod(state={"running": {}}), previous=True) == (
        'previous terminated container "c" in pod "web" not found')
    assert refusal(pod(state={"waiting": {"reason": "ContainerCreating"}})) == (
        'container "c" in pod "web" is waiting to start: ContainerCreating')
    assert refusal(pod(state={"waiting": {"reason": "ErrImagePull"}})) == (
        'container "c" in pod "web" is waiting to start: image can\'t be pulled')
    assert refusal(pod(state={"waiting": {"reason": "ImagePullBackOff"}})) == (
        'container "c" in pod "web" is waiting to start: trying and failing to pull image')
    assert refusal(pod(state={"terminated": {"exitCode": 0}})) == 'container "c" in pod "web" is terminated'
    assert refusal(pod(state={}), container="other") == 'container "other" in pod "web" is not available'


def test_query_options() -> None:
    options, previous = options_from_query({"follow": "true", "tailLines": "5", "timestamps": "1",
                                            "limitBytes": "10", "previous": "false"})
    assert (options.follow, options.tail_lines, options.timestamps, options.limit_bytes, previous) == (
        True, 5, True, 10, False)
    since, _ = options_from_query({"sinceTime": "2026-12-02T10:00:00Z"})
    assert since.since_time is not None and since.since_time.isoformat() == "2026-12-02T10:00:00+00:00"
    for bad in ({"tailLines": "x"}, {"tailLines": "-1"}, {"sinceTime": "yesterday"}):
        with pytest.raises(LogRequestError) as caught:
            options_from_query(bad)
        assert caught.value.status == 400
