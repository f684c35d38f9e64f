"""Flag values read as upstream's Go parsers read them."""

from __future__ import annotations

import argparse

import pytest

from lab.kube.component import parse_bool, parse_duration


def test_durations_read_like_go() -> None:
    assert parse_duration("30s") == 30 and parse_duration("1m30s") == 90 and parse_duration("250ms") == 0.25
    assert parse_duration(3) == 3 and parse_duration("10") == 10 and parse_duration("1h") == 3600
    for bad in ("soon", "ten", "5x", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_booleans_read_like_go() -> None:
    assert all(parse_bool(v) for v in ("true", "True", "1", "t", "yes"))
    assert not any(parse_bool(v) for v in ("false", "0", "F", "no"))
    with pytest.raises(argparse.ArgumentTypeError):
        parse_bool("maybe")
