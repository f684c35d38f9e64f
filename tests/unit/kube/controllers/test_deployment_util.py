"""Deployment arithmetic: template hash, fenceposts, how far a rollout may move."""

from lab.kube.controllers import deployment_util as du
from tests.unit.kube.controllers.harness import template


def test_hash_is_stable_safe_encoded_and_changes_with_the_template() -> None:
    h = du.compute_hash(template({"app": "web"}))
    assert h == du.compute_hash(template({"app": "web"}))
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    assert h != du.compute_hash(template({"app": "web"}, image="nginx:1.26"))
    assert h != du.compute_hash(template({"app": "web"}), collision_count=1)


def test_safe_encode_string_matches_upstream_alphabet_mapping() -> None:
    # upstream: alphanums[int(rune) % 27]; digits 0-9 map to "45679bcdf" shifted as below
    assert du.safe_encode_string("0123456789") == "456789bcdf"
    assert du.fnv32a(b"") == 0x811C9DC5 and du.fnv32a(b"a") == 0xE40C292C


def test_fenceposts_round_surge_up_and_unavailable_down() -> None:
    assert du.resolve_fenceposts(10, "25%", "25%") == (3, 2)
    assert du.resolve_fenceposts(3, "25%", "25%") == (1, 0)
    assert du.resolve_fenceposts(3, 0, 0) == (0, 1)  # both zero: one may be unavailable
    assert du.resolve_fenceposts(4, 2, "50%") == (2, 2)


def _d(replicas: int) -> dict:
    return {"metadata": {"name": "web", "namespace": "default", "uid": "d1"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": template({"app": "web"})}}


def _rs(replicas: int, available: int = 0) -> dict:
    return {"spec": {"replicas": replicas}, "status": {"availableReplicas": available}}


def test_new_rs_grows_within_max_surge() -> None:
    d = _d(4)  # surge 1, unavailable 1
    old, new = _rs(4, 4), _rs(0)
    assert du.new_rs_new_replicas(d, [old, new], new) == 1
    assert du.new_rs_new_replicas(d, [_rs(3, 3), _rs(2)], _rs(2)) == 2  # at max total already


def test_old_rs_shrinks_only_while_min_available_holds() -> None:
    d = _d(4)
    new = _rs(1, 0)
    assert du.max_scaled_down(d, [_rs(4, 4), new], new) == 1  # 5 pods, min 3, the new one not yet available
    new = _rs(1, 1)
    assert du.max_scaled_down(d, [_rs(4, 4), new], new) == 2


def test_new_replica_set_shape() -> None:
    rs = du.new_replica_set(_d(3), "5d4f8", 1, 2, 1)
    assert rs["metadata"]["name"] == "web-5d4f8"
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": "5d4f8"}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": "5d4f8"}
    assert rs["metadata"]["annotations"] == {du.REVISION: "2", du.DESIRED_REPLICAS: "3", du.MAX_REPLICAS: "4"}
    assert rs["metadata"]["ownerReferences"][0]["controller"] is True
    assert du.find_new_rs(_d(3), [rs]) is rs


def test_scaling_event_is_seen_from_the_desired_replicas_annotation() -> None:
    rs = du.new_replica_set(_d(3), "h1", 3, 1, 1)
    assert not du.is_scaling_event(_d(3), [rs])
    assert du.is_scaling_event(_d(5), [rs])


def test_proportional_scaling_keeps_the_ratio() -> None:
    d = _d(20)  # surge 5: the total may reach 25
    old = du.new_replica_set(_d(10), "old", 8, 1, 3)
    new = du.new_replica_set(_d(10), "new", 4, 2, 3)
    old["metadata"]["uid"], new["metadata"]["uid"] = "o", "n"
    targets = du.proportional_targets(d, [old, new])
    assert sum(targets.values()) == 25
    assert targets == {"o": 17, "n": 8}  # 8 + 13*8/12 = 16 (+1 leftover to the largest), 4 + 13*4/12 = 8
