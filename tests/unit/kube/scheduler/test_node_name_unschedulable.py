"""NodeName pins a pod to one node; NodeUnschedulable keeps pods off cordoned nodes."""

from lab.kube.scheduler.framework import Code, CycleState
from lab.kube.scheduler.plugins.node_name import NodeName
from lab.kube.scheduler.plugins.node_unschedulable import NodeUnschedulable
from tests.unit.kube.scheduler.builders import node, node_info, pod


def test_node_name_only_fits_the_named_node() -> None:
    p = pod("p", nodeName="n2")
    assert NodeName().filter(CycleState(), p, node_info(node("n2"))).is_success
    status = NodeName().filter(CycleState(), p, node_info(node("n1")))
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert status.reasons == ["node(s) didn't match the requested node name"]


def test_cordoned_node_rejects_unless_tolerated() -> None:
    cordoned = node_info(node("n1", unschedulable=True))
    assert NodeUnschedulable().filter(CycleState(), pod("p"), cordoned).reasons == ["node(s) were unschedulable"]
    tolerant = pod("ds", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                       "effect": "NoSchedule"}])
    assert NodeUnschedulable().filter(CycleState(), tolerant, cordoned).is_success
