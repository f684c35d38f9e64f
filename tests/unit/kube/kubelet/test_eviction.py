"""Node-pressure eviction: thresholds, the conditions they raise (and keep), which pod goes first,
upstream's message, and the node's allocatable and images."""

from __future__ import annotations

from typing import Any

import pytest

from lab.kube.kubelet import eviction
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.eviction import EvictionManager, Signals, Threshold, parse_thresholds
from lab.kube.kubelet.node_status import allocatable, conditions, image_list
from lab.kube.kubelet.stats import ContainerUsage, Usage

from .conftest import Clock, make_pod

MI = 1024 * 1024


def test_thresholds_parse_quantities_and_percentages() -> None:
    assert parse_thresholds({"memory.available": "100Mi", "nodefs.available": "10%"}) == [
        Threshold("memory.available", quantity=100 * MI), Threshold("nodefs.available", percentage=0.1)]
    with pytest.raises(eviction.ThresholdError, match=r"unsupported signal 'memory\.free'"):
        parse_thresholds({"memory.free": "1Gi"})
    with pytest.raises(eviction.ThresholdError, match="invalid value '120%'"):
        parse_thresholds({"nodefs.available": "120%"})


def pod(name: str, request: str | None = None, priority: int = 0, **extra: Any) -> dict[str, Any]:
    p = make_pod(name=name, uid=f"uid-{name}",
                 resources={"requests": {"memory": request}} if request else {})
    p["spec"]["priority"] = priority
    p["metadata"].update(extra)
    return p


def used(name: str, mib: int) -> ContainerUsage:
    return ContainerUsage("default", name, f"uid-{name}", "app", Usage(1, 0, mib * MI), None)


class Harness:
    def __init__(self, pods: list[dict[str, Any]], usage: list[ContainerUsage], available: int) -> None:
        self.pods, self.usage, self.available = pods, usage, available
        self.evicted: list[tuple[str, str]] = []
        self.clock = Clock()
        self.manager = EvictionManager(parse_thresholds({"memory.available": "100Mi"}), self.observe,
                                       lambda: self.pods, self.containers, self.evict, transition_period=300,
                                       clock=self.clock)

    async def observe(self) -> Signals:
        return Signals({"memory.available": (self.available, 1024 * MI)})

    async def containers(self) -> list[ContainerUsage]:
        return self.usage

    async def evict(self, p: dict[str, Any], message: str) -> None:
        self.evicted.append((p["metadata"]["name"], message))


async def test_memory_pressure_evicts_the_pod_most_over_its_request_first() -> None:
    h = Harness([pod("guarded", "512Mi"), pod("greedy", "10Mi"), pod("besteffort"),
                 pod("mirror", **{"annotations": {"kubernetes.io/config.mirror": "x"}})],
                [used("guarded", 300), used("greedy", 200), used("besteffort", 50), used("mirror", 900)],
                available=60 * MI)
    await h.manager.synchronize()
    [(name, message)] = h.evicted
    assert name == "greedy"  # over its request by 190Mi, more than besteffort's 50Mi; guarded is within it
    assert message == ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 60Mi. "
                       "Container app was using 200Mi, request is 10Mi, has larger consumption of memory. ")
    assert h.manager.pressure() == {"MemoryPressure"}


async def test_the_condition_stays_through_the_transition_period() -> None:
    h = Harness([pod("p")], [used("p", 10)], available=60 * MI)
    await h.manager.synchronize()
    h.available = 900 * MI
    h.clock.advance(200)
    assert await h.manager.synchronize() is None
    assert h.manager.pressure() == {"MemoryPressure"}
    h.clock.advance(101)
    assert h.manager.pressure() == set()
    assert len(h.evicted) == 1


def test_pressure_conditions_on_the_node() -> None:
    conds = {c["type"]: c for c in conditions(True, [], "now", {"MemoryPressure"})}
    assert (conds["MemoryPressure"]["status"], conds["MemoryPressure"]["reason"]) == (
        "True", "KubeletHasInsufficientMemory")
    assert conds["DiskPressure"]["status"] == "False" and conds["Ready"]["status"] == "True"


def test_allocatable_takes_reservations_and_the_hard_thresholds() -> None:
    cap = {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "100Gi", "pods": "110"}
    got = allocatable(cap, [{"cpu": "100m", "memory": "500Mi"}, {"cpu": "200m", "memory": "524Mi"}],
                      parse_thresholds(eviction.DEFAULT_HARD))
    assert got == {"cpu": "1700m", "memory": "7068Mi", "ephemeral-storage": "90Gi", "pods": "110"}
    assert allocatable(cap, [], []) == cap


def test_images_in_the_node_status_largest_first() -> None:
    images = [pb.Image(id="a", repo_tags=["small:1"], size=10),
              pb.Image(id="b", repo_tags=["big:1", "big:latest"], repo_digests=["big@sha256:x"], size=99),
              pb.Image(id="c", size=50)]  # untagged: not listed
    assert image_list(images) == [{"names": ["big@sha256:x", "big:1", "big:latest"], "sizeBytes": 99},
                                  {"names": ["small:1"], "sizeBytes": 10}]
