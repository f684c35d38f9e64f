"""Label and field selectors parse like upstream and match the way kubectl users expect."""

import re

import pytest

from lab.kube.machinery.errors import BadRequest
from lab.kube.machinery.selectors import FieldSelector, LabelSelector

WEB = {"app": "web", "tier": "frontend", "replicas": "3"}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("app=web", WEB, True),
        ("app==web", WEB, True),
        ("app!=web", WEB, False),
        ("app!=db", WEB, True),
        ("missing!=x", WEB, True),  # != matches objects without the label, as upstream
        ("app in (db, web)", WEB, True),
        ("app in (db)", WEB, False),
        ("app notin (db)", WEB, True),
        ("missing notin (db)", WEB, True),
        ("tier", WEB, True),
        ("!tier", WEB, False),
        ("!missing", WEB, True),
        ("app=web,tier=backend", WEB, False),
        ("app=web, tier in (frontend)", WEB, True),
        ("replicas>2", WEB, True),
        ("replicas<3", WEB, False),
        ("example.com/role=x", {"example.com/role": "x"}, True),
        ("", WEB, True),
        ("app=", {"app": ""}, True),
    ],
)
def test_label_selector_grammar_and_matching(text, labels, expected):
    assert LabelSelector.parse(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("app in db", "found 'db', expected: '('"),
        ("app in ()", "values set can't be empty"),
        ("app=web tier=x", "found 'tier', expected: ',' or 'end of string'"),
        ("=web", "found '=', expected: identifier"),
        ("app in (a b)", "found 'b', expected: ',' or ')'"),
        ("-bad=x", "name part must consist of alphanumeric characters"),
        ("app=-x", "a valid label must be an empty string"),
    ],
)
def test_bad_label_selectors_are_rejected_with_upstream_messages(text, message):
    with pytest.raises(BadRequest) as err:
        LabelSelector.parse(text)
    assert message in str(err.value)
    assert err.value.code == 400


def test_selector_object_combines_match_labels_and_expressions():
    sel = LabelSelector.from_object({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "replicas", "operator": "Exists"},
        ],
    })
    assert sel.matches(WEB)
    assert not sel.matches({**WEB, "canary": "1"})
    assert not sel.matches({**WEB, "env": "prod"})
    assert str(sel) == "app=web,canary,env notin (prod),replicas,tier in (edge,frontend)".replace(
        "canary,", "!canary,")


def test_empty_and_nil_selector_objects_differ_like_upstream():
    assert LabelSelector.from_object({}).matches({"any": "thing"})
    assert LabelSelector.from_object({}).empty
    assert not LabelSelector.from_object(None).matches({})
    assert not LabelSelector.from_object(None).empty


def test_unknown_operator_in_selector_object_is_a_bad_request():
    with pytest.raises(BadRequest, match="'Near' is not a valid label selector operator"):
        LabelSelector.from_object({"matchExpressions": [{"key": "a", "operator": "Near"}]})


def test_service_style_selector_from_a_label_map():
    sel = LabelSelector.from_labels({"app": "web"})
    assert sel.matches(WEB) and not sel.matches({"app": "db"})
    assert LabelSelector.from_labels({}).empty


def test_field_selector_equality_inequality_and_and():
    sel = FieldSelector.parse("spec.nodeName=node1,status.phase!=Succeeded")
    assert sel.matches({"spec.nodeName": "node1", "status.phase": "Running"})
    assert not sel.matches({"spec.nodeName": "node1", "status.phase": "Succeeded"})
    assert not sel.matches({"spec.nodeName": "node2", "status.phase": "Running"})
    assert sel.requires_exact("spec.nodeName") == "node1"
    assert sel.requires_exact("status.phase") is None


def test_field_selector_unassigned_pods_and_double_equals():
    unscheduled = FieldSelector.parse("spec.nodeName=")
    assert unscheduled.matches({"spec.nodeName": ""})
    assert unscheduled.matches({})  # a missing field reads as ""
    assert FieldSelector.parse("metadata.name==web").matches({"metadata.name": "web"})
    assert FieldSelector.parse("").empty


def test_field_selector_escapes_commas():
    sel = FieldSelector.parse(r"metadata.name=a\,b")
    assert sel.matches({"metadata.name": "a,b"})


def test_field_selector_without_operator_is_a_bad_request():
    message = "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"
    with pytest.raises(BadRequest, match=re.escape(message)):
        FieldSelector.parse("spec.nodeName")
