"""pods/log before it reaches a kubelet: PodLogOptions validation and the container it picks."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.rest.podlogs import kubelet_error, pick_container, validate
from lab.kube.machinery import errors

POD = {"spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "init"}]}}


def test_the_only_container_is_the_default() -> None:
    assert pick_container({"spec": {"containers": [{"name": "only"}]}}, "web", "") == "only"
    assert pick_container(POD, "web", "b") == "b"
    assert pick_container(POD, "web", "init") == "init"


def test_several_containers_need_a_name() -> None:
    with pytest.raises(errors.BadRequest) as caught:
        pick_container(POD, "web", "")
    assert caught.value.message == ("a container name must be specified for pod web, choose one of: [a b] "
                                    "or one of the init containers: [init]")
    with pytest.raises(errors.BadRequest) as unknown:
        pick_container(POD, "web", "zzz")
    assert unknown.value.message == "container zzz is not valid for pod web"


def test_log_options_are_validated_as_upstream() -> None:
    validate("web", {"tailLines": "0", "limitBytes": "1", "sinceSeconds": "5"})
    with pytest.raises(errors.Invalid) as caught:
        validate("web", {"tailLines": "-1"})
    assert caught.value.message == ('PodLogOptions "web" is invalid: tailLines: Invalid value: -1: '
                                    "must be greater than or equal to 0")
    with pytest.raises(errors.Invalid) as both:
        validate("web", {"sinceSeconds": "5", "sinceTime": "2026-12-02T10:00:00Z", "limitBytes": "0"})
    assert both.value.message == ('PodLogOptions "web" is invalid: [limitBytes: Invalid value: 0: must be greater '
                                  "than 0, Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified]")
    with pytest.raises(errors.BadRequest):
        validate("web", {"tailLines": "ten"})


def test_a_kubelet_refusal_keeps_its_code_and_text() -> None:
    err = kubelet_error(400, 'previous terminated container "c" in pod "web" not found\n')
    assert (err.code, err.reason, err.message) == (400, "BadRequest",
                                                   'previous terminated container "c" in pod "web" not found')
    assert kubelet_error(404, 'pod "x" does not exist').reason == "NotFound"
