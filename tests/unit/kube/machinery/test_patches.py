"""PATCH semantics: RFC 7386 merge, RFC 6902 JSON patch, strategic merge by the merge keys passed in.

The merge keys here are small tables; the API server's come from its schema (tested with it, in
tests/unit/kube/apiserver/schema/test_merge_keys.py).
"""

from __future__ import annotations

import pytest

from lab.kube.machinery.errors import BadRequest, Invalid, UnsupportedMediaType
from lab.kube.machinery.patches import (
    ListMerge,
    MergeKeys,
    apply_patch,
    json_patch,
    merge_patch,
    strategic_merge,
)


def keys(table: dict[tuple[str, ...], ListMerge]) -> MergeKeys:
    """A lookup by exact path; every list not in `table` is atomic."""
    return table.get


POD_KEYS = keys({("spec", "containers"): ListMerge("name"),
                 ("spec", "containers", "ports"): ListMerge("containerPort"),
                 ("metadata", "finalizers"): ListMerge()})


def test_merge_patch_replaces_lists_and_deletes_with_null() -> None:
    doc = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert merge_patch(doc, {"a": {"c": None, "d": 3}, "l": [3]}) == {"a": {"b": 1, "d": 3}, "l": [3]}
    assert doc == {"a": {"b": 1, "c": 2}, "l": [1, 2]}  # the original is untouched


def test_json_patch_operations() -> None:
    doc = {"spec": {"replicas": 1, "items": ["a"]}}
    out = json_patch(doc, [{"op": "replace", "path": "/spec/replicas", "value": 3},
                           {"op": "add", "path": "/spec/items/-", "value": "b"},
                           {"op": "test", "path": "/spec/items/0", "value": "a"},
                           {"op": "remove", "path": "/spec/items/0"}])
    assert out == {"spec": {"replicas": 3, "items": ["b"]}}
    with pytest.raises(Invalid):  # a patch that does not apply is a 422, as upstream
        json_patch(doc, [{"op": "remove", "path": "/spec/nope"}])
    with pytest.raises(BadRequest):  # a malformed patch document is a 400
        json_patch(doc, [{"path": "/spec/replicas"}])


def test_strategic_merge_merges_containers_by_name_and_ports_by_key() -> None:
    pod = {"spec": {"containers": [
        {"name": "a", "image": "x:1", "ports": [{"containerPort": 80, "name": "http"}]},
        {"name": "b", "image": "y:1"}]}}
    patch = {"spec": {"containers": [
        {"name": "a", "image": "x:2", "ports": [{"containerPort": 443}]},
        {"name": "b", "$patch": "delete"},
        {"name": "c", "image": "z:1"}]}}
    out = strategic_merge(pod, patch, POD_KEYS)
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "c"]
    assert out["spec"]["containers"][0]["image"] == "x:2"
    assert [p["containerPort"] for p in out["spec"]["containers"][0]["ports"]] == [80, 443]


def test_strategic_merge_replaces_unkeyed_lists_and_merges_finalizers_as_a_set() -> None:
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"tolerations": [{"key": "x"}]}}
    out = strategic_merge(obj, {"metadata": {"finalizers": ["b", "a"]},
                                "spec": {"tolerations": [{"key": "y"}]}}, POD_KEYS)
    assert out["metadata"]["finalizers"] == ["a", "b"]
    assert out["spec"]["tolerations"] == [{"key": "y"}]
    dropped = strategic_merge(obj, {"$deleteFromPrimitiveList/finalizers": ["a"], "metadata": {}}, POD_KEYS)
    assert dropped.get("finalizers") == []


def test_the_same_field_name_merges_by_the_key_of_its_path() -> None:
    """`ports` of a container and of a Service spec are different lists with different keys."""
    lookup = keys({("spec", "ports"): ListMerge("port"), ("spec", "containers"): ListMerge("name"),
                   ("spec", "containers", "ports"): ListMerge("containerPort")})
    obj = {"spec": {"ports": [{"port": 80, "targetPort": 8080}],
                    "containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]}}
    out = strategic_merge(obj, {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}],
                                         "containers": [{"name": "a", "ports": [{"containerPort": 80,
                                                                                 "protocol": "TCP"}]}]}}, lookup)
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]
    assert out["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]


def test_the_lookup_is_asked_for_field_paths_without_list_positions() -> None:
    asked: list[tuple[str, ...]] = []

    def lookup(path: tuple[str, ...]) -> ListMerge | None:
        asked.append(path)
        return POD_KEYS(path)

    pod = {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}]}]}}
    strategic_merge(pod, {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 81}]}]}}, lookup)
    assert asked == [("spec", "containers"), ("spec", "containers", "ports")]


def test_replace_directives_and_ignored_ordering_directives() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}],
                    "securityContext": {"runAsUser": 1, "fsGroup": 2}}}
    out = strategic_merge(pod, {"spec": {
        "containers": [{"name": "c", "image": "z:1"}, {"$patch": "replace"}],
        "securityContext": {"$patch": "replace", "runAsUser": 3},
        "$setElementOrder/containers": [{"name": "c"}],
    }}, POD_KEYS)
    assert out["spec"] == {"containers": [{"name": "c", "image": "z:1"}], "securityContext": {"runAsUser": 3}}


def test_items_of_a_keyed_list_must_be_objects() -> None:
    with pytest.raises(BadRequest):
        strategic_merge({"spec": {"containers": [{"name": "a"}]}}, {"spec": {"containers": ["a"]}}, POD_KEYS)


def test_unknown_patch_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType):
        apply_patch("text/plain", {}, {}, merge_keys=POD_KEYS)
