"""NodeResourcesFit: requests must fit in allocatable; LeastAllocated prefers emptier nodes."""

from lab.kube.scheduler.framework import Code, CycleState
from lab.kube.scheduler.plugins.node_resources_fit import NodeResourcesFit
from tests.unit.kube.scheduler.builders import node, node_info, pod


def test_a_pod_that_fits_passes() -> None:
    info = node_info(node("n1", cpu="2"), pod("a", cpu="1"))
    assert NodeResourcesFit().filter(CycleState(), pod("b", cpu="500m"), info).is_success


def test_insufficient_cpu_and_memory_are_both_reported() -> None:
    info = node_info(node("n1", cpu="2", memory="1Gi"), pod("a", cpu="1500m", memory="800Mi"))
    status = NodeResourcesFit().filter(CycleState(), pod("b", cpu="1", memory="512Mi"), info)
    assert status.code == Code.UNSCHEDULABLE
    assert status.reasons == ["Insufficient cpu", "Insufficient memory"]


def test_pod_count_is_a_resource_too() -> None:
    info = node_info(node("n1", pods=1), pod("a"))
    assert NodeResourcesFit().filter(CycleState(), pod("b"), info).reasons == ["Too many pods"]


def test_the_largest_init_container_is_a_floor() -> None:
    big_init = pod("b", cpu="100m")
    big_init["spec"]["initContainers"] = [{"name": "init", "resources": {"requests": {"cpu": "3"}}}]
    info = node_info(node("n1", cpu="2"))
    assert NodeResourcesFit().filter(CycleState(), big_init, info).reasons == ["Insufficient cpu"]


def test_least_allocated_scores_the_emptier_node_higher() -> None:
    plugin = NodeResourcesFit()
    busy = node_info(node("busy", cpu="4", memory="8Gi"), pod("x", cpu="3", memory="6Gi"))
    idle = node_info(node("idle", cpu="4", memory="8Gi"))
    p = pod("new", cpu="1", memory="1Gi")
    busy_score, _ = plugin.score(CycleState(), p, busy)
    idle_score, _ = plugin.score(CycleState(), p, idle)
    assert idle_score > busy_score
    # idle: cpu (4-1)/4 = 75, memory (8-1)/8 = 87 -> (75 + 87) / 2 = 81
    assert idle_score == 81


def test_most_allocated_strategy_packs_nodes() -> None:
    plugin = NodeResourcesFit({"scoringStrategy": {"type": "MostAllocated"}})
    busy = node_info(node("busy"), pod("x", cpu="3", memory="6Gi"))
    idle = node_info(node("idle"))
    p = pod("new", cpu="1", memory="1Gi")
    assert plugin.score(CycleState(), p, busy)[0] > plugin.score(CycleState(), p, idle)[0]
