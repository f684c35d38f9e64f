"""PATCH semantics: RFC 7386 merge, RFC 6902 JSON patch, strategic merge by patchMergeKey."""

from __future__ import annotations

import pytest

from lab.kube.client.patches import (
    apply_patch,
    json_patch,
    merge_patch,
    strategic_merge,
)
from lab.kube.machinery.errors import BadRequest, Invalid, UnsupportedMediaType


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
    out = strategic_merge(pod, patch)
    assert [c["name"] for c in out["spec"]["containers"]] == ["a", "c"]
    assert out["spec"]["containers"][0]["image"] == "x:2"
    assert [p["containerPort"] for p in out["spec"]["containers"][0]["ports"]] == [80, 443]


def test_strategic_merge_replaces_unkeyed_lists_and_merges_finalizers_as_a_set() -> None:
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"tolerations": [{"key": "x"}]}}
    out = strategic_merge(obj, {"metadata": {"finalizers": ["b", "a"]},
                                "spec": {"tolerations": [{"key": "y"}]}})
    assert out["metadata"]["finalizers"] == ["a", "b"]
    assert out["spec"]["tolerations"] == [{"key": "y"}]
    dropped = strategic_merge(obj, {"$deleteFromPrimitiveList/finalizers": ["a"], "metadata": {}})
    assert dropped.get("finalizers") == []


def test_unknown_patch_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaType):
        apply_patch("text/plain", {}, {})
