"""The one config loader: type check, strict or lenient fields, one-line errors naming file and field."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from lab.kube.component.config import (
    BOOL,
    DURATION,
    FLOAT,
    INT,
    STR,
    ConfigError,
    ConfigType,
    ListOf,
    MapOf,
    layer,
    load,
    pick,
)

FIELDS = {"name": STR, "count": INT, "ratio": FLOAT, "enabled": BOOL, "period": DURATION,
          "items": ListOf({"name": STR, "weight": INT}), "labels": MapOf(STR), "nested": {"path": STR}}
STRICT = ConfigType("example.config.k8s.io/v1", "ExampleConfiguration", FIELDS, strict=True)
LENIENT = ConfigType("example.config.k8s.io/v1", "ExampleConfiguration", FIELDS, strict=False)
HEADER = "apiVersion: example.config.k8s.io/v1\nkind: ExampleConfiguration\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "example.yaml"
    path.write_text(text)
    return path


def test_fields_are_decoded_and_durations_are_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "name: a\ncount: 3\nratio: 2\nenabled: true\nperiod: 1m30s\n"
                                    "items: [{name: x, weight: 2}]\nlabels: {k: v}\nnested: {path: /p}\n")
    assert load(path, STRICT) == {"name": "a", "count": 3, "ratio": 2.0, "enabled": True, "period": 90.0,
                                  "items": [{"name": "x", "weight": 2}], "labels": {"k": "v"},
                                  "nested": {"path": "/p"}}


def test_json_is_read_too_and_null_is_absent(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"apiVersion": "example.config.k8s.io/v1", "kind": "ExampleConfiguration",
                                       "count": 1, "name": None}))
    assert load(path, STRICT) == {"count": 1}


@pytest.mark.parametrize("text, message", [
    ("kind: ExampleConfiguration\n", ("apiVersion is missing (expected kind ExampleConfiguration, "
                                      "apiVersion example.config.k8s.io/v1)")),
    ("apiVersion: example.config.k8s.io/v1\n", "kind is missing"),
    ("apiVersion: v1\nkind: ConfigMap\n", 'no kind "ConfigMap" is registered for version "v1"'),
    ("apiVersion: example.config.k8s.io/v1beta9\nkind: ExampleConfiguration\n",
     'no kind "ExampleConfiguration" is registered for version "example.config.k8s.io/v1beta9"'),
    ("- a list\n", "expected a ExampleConfiguration object, got a list"),
    ("", "expected a ExampleConfiguration object, got nothing"),
    ("kind: [unclosed\n", "not valid YAML or JSON"),
])
def test_the_wrong_document_is_refused_in_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, LENIENT)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    expected = "missing.yaml: cannot read the ExampleConfiguration file: No such file"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load(tmp_path / "missing.yaml", STRICT)


@pytest.mark.parametrize("line, message", [
    ("count: three", "count: expected an integer, got a string 'three'"),
    ("count: true", "count: expected an integer, got a boolean True"),
    ("name: 10", "name: expected a string, got an integer 10"),
    ("enabled: maybe", "enabled: expected true or false, got a string 'maybe'"),
    ("period: 5 minutes", "period: invalid duration '5 minutes' (Go syntax: 30s, 1m30s, 500ms)"),
    ("items: {name: x}", "items: expected a list, got an object"),
    ("items: [{name: x, weight: heavy}]", "items[0].weight: expected an integer, got a string 'heavy'"),
    ("nested: /p", "nested: expected an object, got a string '/p'"),
    ("labels: {k: 1}", "labels.k: expected a string, got an integer 1"),
])
def test_a_wrong_type_is_an_error_even_when_lenient(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, HEADER + line + "\n")
    with pytest.raises(ConfigError) as caught:
        load(path, LENIENT)
    assert str(caught.value) == f"{path}: {message}"


def test_strict_types_refuse_unknown_and_duplicate_fields_with_their_paths(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "count: 1\ncount: 2\nsize: 3\nitems: [{name: x, wieght: 1}]\nnested: {pth: /p}\n")
    with pytest.raises(ConfigError) as caught:
        load(path, STRICT)
    assert str(caught.value) == (f'{path}: strict decoding error: duplicate field "count" (line 4), '
                                 'unknown field "size", unknown field "items[0].wieght", unknown field "nested.pth"')


def test_lenient_types_warn_drop_unknown_fields_and_keep_the_last_duplicate(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, HEADER + "count: 1\ncount: 2\nsize: 3\n")
    with caplog.at_level(logging.WARNING):
        assert load(path, LENIENT) == {"count": 2}
    assert caplog.messages == [(f'{path}: Using lenient decoding as strict decoding failed: strict decoding error: '
                                'duplicate field "count" (line 4), unknown field "size"')]


def test_pick_maps_document_paths_onto_settings_fields() -> None:
    doc = {"nested": {"path": "/p"}, "count": 0}
    assert pick(doc, {"path": "nested.path", "count": "count", "absent": "nested.other", "deep": "count.x"}) == {
        "path": "/p", "count": 0}


def test_layer_puts_given_flags_over_the_file(caplog: pytest.LogCaptureFixture) -> None:
    file_values = {"a": 1, "b": 2, "c": 3}
    assert layer(file_values, {"a": 10, "b": None, "d": 4}) == {"a": 10, "b": 2, "c": 3, "d": 4}
    with caplog.at_level(logging.WARNING):
        assert layer(file_values, {"a": 10, "c": 3, "d": 4}, over_file=("d",)) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert caplog.messages == ["Flags for a are ignored: the --config file wins over them, as upstream"]
