"""Metadata accessors and object names behave like upstream helpers."""

import re

from lab.kube.machinery import meta, names

POD = {
    "metadata": {
        "name": "web-1",
        "namespace": "default",
        "labels": {"app": "web"},
        "ownerReferences": [
            {"kind": "Node", "name": "n1", "uid": "u0"},
            {"kind": "ReplicaSet", "name": "web", "uid": "u1", "controller": True},
        ],
    }
}


def test_keys_for_namespaced_and_cluster_objects():
    assert meta.key(POD) == "default/web-1"
    assert meta.key({"metadata": {"name": "node1"}}) == "node1"
    assert meta.split_key("default/web-1") == ("default", "web-1")
    assert meta.split_key("node1") == ("", "node1")


def test_accessors_tolerate_missing_metadata():
    assert meta.name({}) == "" and meta.labels({}) == {} and meta.annotations({}) == {}
    assert meta.controller_ref({}) is None


def test_controller_ref_is_the_owner_marked_controller():
    assert meta.controller_ref(POD)["name"] == "web"


def test_times_are_rfc3339_utc():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta.now())
    micro = meta.now_micro()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", micro)
    assert meta.parse_time(micro).tzinfo is not None


def test_generate_name_cuts_base_and_appends_five_safe_chars():
    name = names.generate_name("x" * 70)
    assert len(name) == 63 and name.startswith("x" * 58)
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{5}", name[58:])
    assert names.generate_name("web-").startswith("web-")


def test_dns1123_checks_return_upstream_messages():
    assert names.is_dns1123_label("my-ns") == []
    assert names.is_dns1123_subdomain("web.example.com") == []
    errs = names.is_dns1123_label("My_NS")
    assert errs and errs[0].startswith("a lowercase RFC 1123 label must consist of")
    assert "must be no more than 63 characters" in names.is_dns1123_label("a" * 64)
    assert names.is_dns1123_subdomain("-bad")[0].startswith("a lowercase RFC 1123 subdomain")
