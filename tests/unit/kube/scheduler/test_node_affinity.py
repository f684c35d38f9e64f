"""NodeAffinity: nodeSelector and required terms filter; preferred terms score."""

from lab.kube.scheduler.framework import Code, CycleState
from lab.kube.scheduler.plugins.node_affinity import ERR_REASON_POD, NodeAffinity
from tests.unit.kube.scheduler.builders import node, node_info, pod


def _required(*terms: dict) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def test_node_selector_must_match_labels() -> None:
    ssd = node_info(node("n1", labels={"disk": "ssd"}))
    hdd = node_info(node("n2", labels={"disk": "hdd"}))
    p = pod("p", nodeSelector={"disk": "ssd"})
    assert NodeAffinity().filter(CycleState(), p, ssd).is_success
    status = NodeAffinity().filter(CycleState(), p, hdd)
    assert status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE and status.reasons == [ERR_REASON_POD]


def test_match_expressions_operators() -> None:
    n = node_info(node("n1", labels={"zone": "a", "cores": "8"}))
    cases = {
        ("zone", "In", ("a", "b")): True, ("zone", "NotIn", ("a",)): False, ("zone", "Exists", ()): True,
        ("gpu", "DoesNotExist", ()): True, ("cores", "Gt", ("4",)): True, ("cores", "Lt", ("4",)): False,
    }
    for (key, op, values), want in cases.items():
        expr = {"key": key, "operator": op, "values": list(values)}
        p = pod("p", affinity=_required({"matchExpressions": [expr]}))
        assert NodeAffinity().filter(CycleState(), p, n).is_success is want, (key, op)


def test_terms_are_ored_and_match_fields_pin_a_node_by_name() -> None:
    p = pod("p", affinity=_required(
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}))
    assert not NodeAffinity().filter(CycleState(), p, node_info(node("n1"))).is_success
    assert NodeAffinity().filter(CycleState(), p, node_info(node("n2"))).is_success


def test_preferred_terms_score_by_weight_normalized() -> None:
    plugin = NodeAffinity()
    p = pod("p", affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 80, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
        {"weight": 20, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}},
    ]}})
    nodes = [node_info(node("a", labels={"zone": "a"})), node_info(node("b", labels={"ssd": "1"})),
             node_info(node("c"))]
    state = CycleState()
    plugin.pre_score(state, p, nodes)
    scores = {n.name: plugin.score(state, p, n)[0] for n in nodes}
    assert scores == {"a": 80, "b": 20, "c": 0}
    plugin.normalize_score(state, p, scores)
    assert scores == {"a": 100, "b": 25, "c": 0}
