"""One scheduling decision: filter, score, pick, and the upstream 'no fit' message."""

import random

import pytest

from lab.kube.scheduler import config
from lab.kube.scheduler.algorithm import Algorithm, FitError, num_feasible_nodes_to_find
from lab.kube.scheduler.framework import CycleState
from lab.kube.scheduler.profile import Framework
from tests.unit.kube.scheduler.builders import node, node_info, pod


def _framework() -> Framework:
    return Framework(config.from_dict(None).profiles[0], handle=None)


def test_no_fit_message_counts_reasons_like_upstream() -> None:
    nodes = [node_info(node("small-1", cpu="1")), node_info(node("small-2", cpu="1")),
             node_info(node("gpu", labels={"gpu": "yes"}))]
    p = pod("big", cpu="2", nodeSelector={"disk": "ssd"})
    p["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "small-1"}
    with pytest.raises(FitError) as caught:
        Algorithm().schedule(_framework(), CycleState(), p, nodes)
    assert str(caught.value) == ("0/3 nodes are available: 1 Insufficient cpu, "
                                 "2 node(s) didn't match Pod's node affinity/selector.")


def test_no_nodes_at_all() -> None:
    with pytest.raises(FitError, match="no nodes available to schedule pods"):
        Algorithm().schedule(_framework(), CycleState(), pod("p"), [])


def test_picks_the_least_loaded_node() -> None:
    nodes = [node_info(node("busy"), pod("x", cpu="3", memory="6Gi")), node_info(node("idle"))]
    assert Algorithm().schedule(_framework(), CycleState(), pod("p", cpu="100m"), nodes) == "idle"


def test_ties_are_broken_at_random() -> None:
    algo = Algorithm(rng=random.Random(7))
    picks = {algo.select_host({"a": 10, "b": 10, "c": 3}) for _ in range(50)}
    assert picks == {"a", "b"}


def test_num_feasible_nodes_to_find() -> None:
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(1000) == 420  # 50 - 1000/125 = 42%
    assert num_feasible_nodes_to_find(5000) == 500  # floor: 10%
    assert num_feasible_nodes_to_find(200, percentage=10) == 100  # never fewer than 100
