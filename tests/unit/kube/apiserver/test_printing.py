"""What kubectl shows: ages like upstream HumanDuration, pod STATUS, service columns, and
the URL parsing that tells a namespace from a namespaced collection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lab.kube.apiserver.printers import human_duration
from lab.kube.apiserver.rest import paths
from lab.kube.apiserver.strategies.pod_table import pod_cells
from lab.kube.apiserver.strategies.pods import qos_class
from lab.kube.apiserver.strategies.services import STRATEGY as SERVICES
from lab.kube.machinery import catalog, errors


@pytest.mark.parametrize("seconds,text", [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"),
                                          (3 * 3600 + 60, "3h1m"), (30 * 3600, "30h"),
                                          (3 * 86400 + 3600, "3d1h"), (40 * 86400, "40d")])
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_pod_status_column() -> None:
    waiting = {"status": {"phase": "Pending", "containerStatuses": [
        {"state": {"waiting": {"reason": "ContainerCreating"}}}]}}
    assert pod_cells(waiting).status == "ContainerCreating"
    running = {"status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}, "ready": True}]}}
    assert pod_cells(running).status == "Running"
    crashed = {"status": {"phase": "Running", "containerStatuses": [
        {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert pod_cells(crashed).status == "CrashLoopBackOff"
    assert pod_cells({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running"}}).status == "Terminating"


def test_qos_classes() -> None:
    both = {"cpu": "1", "memory": "1Gi"}
    assert qos_class({"containers": [{"resources": {}}]}) == "BestEffort"
    assert qos_class({"containers": [{"resources": {"limits": both}}]}) == "Guaranteed"
    assert qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]}) == "Burstable"


def test_service_row() -> None:
    svc = {"metadata": {"name": "web", "creationTimestamp": "2020-01-01T00:00:00Z"},
           "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}}
    row = SERVICES.row(svc)
    assert row[:5] == ["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP"]
    assert row[6] == "app=web"


def test_paths() -> None:
    ns = paths.parse("/api/v1/namespaces/kube-system")
    assert ns and ns.resource is catalog.NAMESPACES and ns.name == "kube-system" and ns.namespace is None
    pods = paths.parse("/api/v1/namespaces/default/pods/p/status")
    assert pods
    assert (pods.resource, pods.namespace, pods.name, pods.subresource) == (catalog.PODS, "default", "p", "status")
    watch = paths.parse("/apis/apps/v1/watch/namespaces/x/deployments")
    assert watch and watch.watch_path and watch.resource is catalog.DEPLOYMENTS
    assert paths.parse("/api/v1") is None
    with pytest.raises(errors.NotFound):
        paths.parse("/api/v1/namespaces/default/pods/p/exec-nope")


def _init_pod(*statuses: dict[str, Any], phase: str = "Pending", initialized: str = "False") -> dict[str, Any]:
    return {"metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "setup"}, {"name": "proxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "app"}]},
            "status": {"phase": phase, "conditions": [{"type": "Initialized", "status": initialized}],
                       "initContainerStatuses": list(statuses),
                       "containerStatuses": [{"name": "app", "ready": False,
                                              "state": {"waiting": {"reason": "PodInitializing"}}}]}}


def test_pod_cells_while_init_containers_run_as_kubectl_prints_them() -> None:
    done = {"name": "setup", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    waiting = {"name": "proxy", "state": {"waiting": {"reason": "PodInitializing"}}}
    cells = pod_cells(_init_pod(done, waiting))
    assert (cells.ready, cells.status) == ("0/2", "Init:1/2")
    failed = {"name": "setup", "restartCount": 2, "state": {"terminated": {"exitCode": 3, "reason": "Error"}},
              "lastState": {"terminated": {"exitCode": 3, "finishedAt": "2026-01-01T00:00:00Z"}}}
    cells = pod_cells(_init_pod(failed, waiting, phase="Failed"), now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert (cells.status, cells.restarts) == ("Init:Error", "2 (5m ago)")
    looping = {"name": "setup", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    assert pod_cells(_init_pod(looping, waiting)).status == "Init:CrashLoopBackOff"


def test_a_started_sidecar_counts_toward_ready() -> None:
    done = {"name": "setup", "state": {"terminated": {"exitCode": 0}}}
    proxy = {"name": "proxy", "started": True, "ready": True, "state": {"running": {}}}
    pod = _init_pod(done, proxy, phase="Running", initialized="True")
    pod["status"]["containerStatuses"] = [{"name": "app", "ready": True, "state": {"running": {}}}]
    cells = pod_cells(pod)
    assert (cells.ready, cells.status, cells.restarts) == ("2/2", "Running", "0")
