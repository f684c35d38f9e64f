"""NodeResourcesBalancedAllocation: prefer nodes where cpu and memory use stay in step."""

from lab.kube.scheduler.framework import CycleState
from lab.kube.scheduler.plugins.balanced_allocation import (
    NodeResourcesBalancedAllocation,
    balanced_score,
)
from tests.unit.kube.scheduler.builders import node, node_info, pod


def test_equal_fractions_score_full_marks() -> None:
    assert balanced_score([0.5, 0.5]) == 100
    assert balanced_score([1.0, 0.0]) == 50


def test_node_left_unbalanced_scores_lower() -> None:
    plugin = NodeResourcesBalancedAllocation()
    p = pod("p", cpu="1", memory="1Gi")
    cpu_heavy = node_info(node("cpu-heavy", cpu="4", memory="8Gi"), pod("x", cpu="3", memory="100Mi"))
    even = node_info(node("even", cpu="4", memory="8Gi"), pod("y", cpu="1", memory="2Gi"))
    assert plugin.score(CycleState(), p, even)[0] > plugin.score(CycleState(), p, cpu_heavy)[0]
