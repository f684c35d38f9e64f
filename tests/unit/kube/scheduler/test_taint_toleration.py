"""TaintToleration: NoSchedule/NoExecute taints need tolerations; PreferNoSchedule lowers the score."""

from lab.kube.machinery.taints import tolerates
from lab.kube.scheduler.framework import CycleState
from lab.kube.scheduler.plugins.taint_toleration import TaintToleration
from tests.unit.kube.scheduler.builders import node, node_info, pod

MASTER = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_untolerated_taint_rejects_with_upstream_message() -> None:
    status = TaintToleration().filter(CycleState(), pod("p"), node_info(node("cp", taints=[MASTER])))
    assert status.reasons == ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"]


def test_exists_toleration_admits() -> None:
    p = pod("p", tolerations=[{"key": MASTER["key"], "operator": "Exists", "effect": "NoSchedule"}])
    assert TaintToleration().filter(CycleState(), p, node_info(node("cp", taints=[MASTER]))).is_success


def test_toleration_matching_rules() -> None:
    taint = {"key": "k", "value": "v", "effect": "NoExecute"}
    assert tolerates({"key": "k", "value": "v"}, taint)  # empty effect matches every effect
    assert tolerates({"operator": "Exists"}, taint)  # empty key + Exists tolerates everything
    assert not tolerates({"key": "k", "value": "other"}, taint)
    assert not tolerates({"key": "k", "operator": "Exists", "effect": "NoSchedule"}, taint)


def test_prefer_no_schedule_taints_lower_the_score() -> None:
    plugin = TaintToleration()
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    tainted, clean = node_info(node("t", taints=[soft])), node_info(node("c"))
    p, state = pod("p"), CycleState()
    assert plugin.filter(state, p, tainted).is_success  # soft taints never filter
    plugin.pre_score(state, p, [tainted, clean])
    scores = {n.name: plugin.score(state, p, n)[0] for n in (tainted, clean)}
    plugin.normalize_score(state, p, scores)
    assert scores == {"t": 0, "c": 100}
