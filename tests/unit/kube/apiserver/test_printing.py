"""What kubectl shows: ages like upstream HumanDuration, pod STATUS, service columns, and
the URL parsing that tells a namespace from a namespaced collection."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.printers import human_duration
from lab.kube.apiserver.rest import paths
from lab.kube.apiserver.strategies.pods import pod_reason, qos_class
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
    assert pod_reason(waiting) == "ContainerCreating"
    running = {"status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}, "ready": True}]}}
    assert pod_reason(running) == "Running"
    crashed = {"status": {"phase": "Running", "containerStatuses": [
        {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert pod_reason(crashed) == "CrashLoopBackOff"
    assert pod_reason({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running"}}) == "Terminating"


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
